//! Password-guessing throttle: failed logins counted per username and per
//! client address in fixed windows; past the limit, logins are refused
//! with 429 and `Retry-After` until the window ends — before any password
//! is checked, so a flood costs no hashing.
//!
//! Unknown usernames are counted exactly like known ones, so the throttle
//! says nothing about which names exist.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most subjects tracked at once; past it, expired windows are dropped and,
/// if that is not enough, the username windows (the address windows, which
/// an attacker cannot multiply as cheaply, are kept).
const MAX_TRACKED: usize = 100_000;

/// Password checks one client address may have waiting or running at once:
/// a flood from one address cannot fill the shared hashing queue and lock
/// everyone else out.
pub const MAX_IN_FLIGHT_PER_ADDR: usize = 4;

/// Failed-login limits.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    /// Failures allowed per username per window.
    pub per_user: u32,
    /// Failures allowed per client address per window.
    pub per_addr: u32,
    /// The window.
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            per_user: 10,
            per_addr: 100,
            window: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Subject {
    User(String),
    Addr(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

/// The failure counters, and the checks in flight per address.
#[derive(Debug)]
pub struct LoginThrottle {
    limits: LoginLimits,
    windows: Mutex<HashMap<Subject, Window>>,
    in_flight: Mutex<HashMap<IpAddr, usize>>,
}

/// A password check in flight for one address; ends when dropped.
#[derive(Debug)]
pub struct InFlight<'a> {
    throttle: &'a LoginThrottle,
    addr: Option<IpAddr>,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(addr) = self.addr {
            let mut map = lock(&self.throttle.in_flight);
            if let Some(n) = map.get_mut(&addr) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    map.remove(&addr);
                }
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl LoginThrottle {
    /// A throttle with `limits`.
    pub fn new(limits: LoginLimits) -> Self {
        LoginThrottle {
            limits,
            windows: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    /// Admits one password check for `addr`, or `None` when that address
    /// already has [`MAX_IN_FLIGHT_PER_ADDR`] in flight.
    pub fn begin(&self, addr: Option<IpAddr>) -> Option<InFlight<'_>> {
        if let Some(a) = addr {
            let mut map = lock(&self.in_flight);
            let n = map.entry(a).or_insert(0);
            if *n >= MAX_IN_FLIGHT_PER_ADDR {
                return None;
            }
            *n += 1;
        }
        Some(InFlight {
            throttle: self,
            addr,
        })
    }

    /// `Err(retry_after)` when `username` or `addr` has used up its failures.
    pub fn check(&self, username: &str, addr: Option<IpAddr>) -> Result<(), Duration> {
        let now = Instant::now();
        let windows = self.lock();
        let mut wait = Duration::ZERO;
        for (subject, limit) in self.subjects(username, addr) {
            if let Some(w) = windows.get(&subject) {
                let left = self.limits.window.saturating_sub(now - w.started);
                if w.failures >= limit && !left.is_zero() {
                    wait = wait.max(left);
                }
            }
        }
        if wait.is_zero() { Ok(()) } else { Err(wait) }
    }

    /// Counts a failed login.
    pub fn failed(&self, username: &str, addr: Option<IpAddr>) {
        let now = Instant::now();
        let mut windows = self.lock();
        if windows.len() >= MAX_TRACKED {
            let window = self.limits.window;
            windows.retain(|_, w| now - w.started < window);
            if windows.len() >= MAX_TRACKED {
                windows.retain(|s, _| matches!(s, Subject::Addr(_)));
            }
        }
        for (subject, _) in self.subjects(username, addr) {
            let w = windows.entry(subject).or_insert(Window {
                started: now,
                failures: 0,
            });
            if now - w.started >= self.limits.window {
                *w = Window {
                    started: now,
                    failures: 0,
                };
            }
            w.failures = w.failures.saturating_add(1);
        }
    }

    /// A successful login clears its username's failures (not its
    /// address's: one right password must not reset a guessing run).
    pub fn succeeded(&self, username: &str) {
        self.lock().remove(&Subject::User(username.to_lowercase()));
    }

    fn subjects(&self, username: &str, addr: Option<IpAddr>) -> Vec<(Subject, u32)> {
        let mut out = vec![(Subject::User(username.to_lowercase()), self.limits.per_user)];
        if let Some(a) = addr {
            out.push((Subject::Addr(a), self.limits.per_addr));
        }
        out
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Subject, Window>> {
        lock(&self.windows)
    }
}

/// The client's address: the peer's, or — when the peer is a trusted proxy
/// — the right-most `X-Forwarded-For` entry that is not itself trusted.
pub fn client_addr(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let Some(chain) = forwarded_for else {
        return Some(peer);
    };
    chain
        .rsplit(',')
        .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
        .find(|ip| !trusted.contains(ip))
        .or(Some(peer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> LoginLimits {
        LoginLimits {
            per_user: 3,
            per_addr: 5,
            window: Duration::from_secs(60),
        }
    }

    #[test]
    fn a_username_is_locked_after_its_failures_and_unknown_names_alike() {
        let t = LoginThrottle::new(limits());
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert!(t.check("Alice", Some(a)).is_ok());
            t.failed("Alice", Some(a));
        }
        let wait = t
            .check("alice", Some("10.0.0.2".parse().unwrap()))
            .unwrap_err();
        assert!(wait > Duration::from_secs(50));
        assert!(t.check("bob", Some("10.0.0.2".parse().unwrap())).is_ok());
        // Two more failures on other names lock the address.
        t.failed("x", Some(a));
        t.failed("y", Some(a));
        assert!(t.check("carol", Some(a)).is_err());
        assert!(t.check("carol", None).is_ok());
    }

    #[test]
    fn one_address_has_a_few_checks_in_flight_at_most() {
        let t = LoginThrottle::new(limits());
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let held: Vec<_> = (0..MAX_IN_FLIGHT_PER_ADDR)
            .map(|_| t.begin(Some(a)).unwrap())
            .collect();
        assert!(t.begin(Some(a)).is_none());
        assert!(t.begin(Some("10.0.0.2".parse().unwrap())).is_some());
        drop(held);
        assert!(t.begin(Some(a)).is_some());
    }

    #[test]
    fn success_clears_the_username_only() {
        let t = LoginThrottle::new(limits());
        t.failed("dave", None);
        t.failed("dave", None);
        t.succeeded("dave");
        for _ in 0..2 {
            t.failed("dave", None);
        }
        assert!(t.check("dave", None).is_ok());
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.9".parse().unwrap();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        let xff = Some("198.51.100.1, 203.0.113.7");
        assert_eq!(client_addr(Some(proxy), xff, &[proxy]), Some(client));
        assert_eq!(client_addr(Some(proxy), xff, &[]), Some(proxy));
        assert_eq!(client_addr(Some(client), xff, &[proxy]), Some(client));
        assert_eq!(client_addr(Some(proxy), None, &[proxy]), Some(proxy));
    }
}

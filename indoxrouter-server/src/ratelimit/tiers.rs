//! Named tiers of per-minute limits, and the default table.

use std::collections::BTreeMap;

/// Per-minute allowances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Requests per minute (at least 1).
    pub requests_per_minute: u64,
    /// Tokens per minute (at least 1).
    pub tokens_per_minute: u64,
}

/// The tier table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tiers {
    table: BTreeMap<String, Limits>,
    default: String,
}

/// A tier table or default that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TierError(pub String);

/// The built-in table: the classic API's four tiers.
const DEFAULT_TABLE: &str =
    "free=20:40000,basic=60:200000,premium=500:2000000,enterprise=3000:10000000";

impl Default for Tiers {
    fn default() -> Self {
        // The built-in table is a constant known to parse.
        Tiers::parse(Some(DEFAULT_TABLE), None).unwrap_or_else(|_| Tiers {
            table: BTreeMap::new(),
            default: String::new(),
        })
    }
}

impl Tiers {
    /// Parses `name=rpm:tpm,…` (`None`: the built-in table) and the default
    /// tier's name (`None`: `free` if the table has it, else the first).
    pub fn parse(table: Option<&str>, default: Option<&str>) -> Result<Tiers, TierError> {
        let spec = table.unwrap_or(DEFAULT_TABLE);
        let mut parsed = BTreeMap::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let bad = || {
                TierError(format!(
                    "`{entry}`: expected name=requests:tokens, e.g. free=20:40000"
                ))
            };
            let (name, limits) = entry.split_once('=').ok_or_else(bad)?;
            let (rpm, tpm) = limits.split_once(':').ok_or_else(bad)?;
            let name = name.trim();
            if !valid_name(name) {
                return Err(TierError(format!(
                    "`{name}`: a tier name is 1–32 letters, digits, - or _"
                )));
            }
            let number = |s: &str| s.trim().parse::<u64>().ok().filter(|n| *n > 0);
            let limits = Limits {
                requests_per_minute: number(rpm).ok_or_else(bad)?,
                tokens_per_minute: number(tpm).ok_or_else(bad)?,
            };
            if parsed.insert(name.to_owned(), limits).is_some() {
                return Err(TierError(format!("tier `{name}` is defined twice")));
            }
        }
        let default = match default {
            Some(d) => d.trim().to_owned(),
            None if parsed.contains_key("free") => "free".to_owned(),
            None => parsed.keys().next().cloned().unwrap_or_default(),
        };
        if !parsed.contains_key(&default) {
            return Err(TierError(format!(
                "the default tier `{default}` is not in the table"
            )));
        }
        Ok(Tiers {
            table: parsed,
            default,
        })
    }

    /// The limits of `name`.
    pub fn get(&self, name: &str) -> Option<Limits> {
        self.table.get(name).copied()
    }

    /// The default tier's name.
    pub fn default_name(&self) -> &str {
        &self.default
    }

    /// The tier a stored name resolves to: itself if still defined, else the
    /// default (a tier removed from the table falls back, it does not lock
    /// its users out).
    pub fn resolve<'a>(&'a self, name: Option<&'a str>) -> (&'a str, Limits) {
        if let Some(n) = name
            && let Some(l) = self.table.get(n)
        {
            return (n, *l);
        }
        let l = self.table.get(&self.default).copied().unwrap_or(Limits {
            requests_per_minute: 1,
            tokens_per_minute: 1,
        });
        (&self.default, l)
    }

    /// Every tier, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Limits)> {
        self.table.iter().map(|(k, v)| (k.as_str(), *v))
    }
}

fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table() {
        let t = Tiers::default();
        assert_eq!(t.default_name(), "free");
        assert_eq!(
            t.get("premium"),
            Some(Limits {
                requests_per_minute: 500,
                tokens_per_minute: 2_000_000
            })
        );
        assert_eq!(t.iter().count(), 4);
    }

    #[test]
    fn custom_table_and_default() {
        let t = Tiers::parse(Some("a=1:10, b=2:20"), Some("b")).unwrap();
        assert_eq!(t.resolve(None).0, "b");
        assert_eq!(t.resolve(Some("a")).1.tokens_per_minute, 10);
        // A tier no longer defined falls back to the default.
        assert_eq!(t.resolve(Some("gone")).0, "b");
    }

    #[test]
    fn bad_tables_are_refused() {
        for bad in [
            "free",
            "free=1",
            "free=0:10",
            "free=1:x",
            "a b=1:1",
            "a=1:1,a=2:2",
        ] {
            assert!(Tiers::parse(Some(bad), None).is_err(), "{bad}");
        }
        assert!(Tiers::parse(Some("a=1:1"), Some("b")).is_err());
    }
}

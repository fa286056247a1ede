//! The accept loop: TCP_NODELAY on every connection, HTTP/1.1 keep-alive, and
//! graceful shutdown that lets in-flight requests finish and settle.
//!
//! warp's own `serve` does not set TCP_NODELAY, and on keep-alive connections
//! Nagle's algorithm plus delayed ACKs stall small responses by ~40 ms; its
//! acceptor trait is private, so the loop is ours.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::state::AppState;

/// How long a client may take to send a request's headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A server running in the background (tests, embedding).
#[derive(Debug)]
pub struct Running {
    /// The bound address.
    pub addr: SocketAddr,
    trigger: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Running {
    /// Base URL, e.g. `http://127.0.0.1:43123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets in-flight requests finish, settles every charge
    /// and closes the store.
    pub async fn shutdown(mut self) {
        if let Some(t) = self.trigger.take() {
            let _ = t.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Serves `state` on `listener` in a background task.
pub fn start(state: Arc<AppState>, listener: TcpListener) -> std::io::Result<Running> {
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(state, listener, async move {
        let _ = rx.await;
    }));
    Ok(Running {
        addr,
        trigger: Some(tx),
        task,
    })
}

const REQUEST_ID: &str = "x-request-id";

/// The routes as a service that counts and times every answer.
#[derive(Clone)]
struct Measured<S> {
    inner: S,
    state: Arc<AppState>,
}

impl<S, B> tower_service::Service<http::Request<B>> for Measured<S>
where
    S: tower_service::Service<http::Request<B>, Response = warp::reply::Response>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send + 'static>,
    >;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let started = std::time::Instant::now();
        let route = crate::metrics::route_label(req.uri().path());
        let method = req.method().clone();
        // HEAD is GET without the body (RFC 9110 §9.3.2): the routes match GET
        // and hyper leaves the body out of a HEAD answer.
        if method == http::Method::HEAD {
            *req.method_mut() = http::Method::GET;
        }
        // Every request gets an id here, so handlers, the access log and the
        // response all carry the same one: the caller's if usable, else new.
        let id = match req.headers().get(REQUEST_ID) {
            Some(v) if v.to_str().is_ok_and(crate::routes::usable_request_id) => v.clone(),
            _ => {
                let id = http::HeaderValue::from_str(&crate::routes::new_request_id())
                    .unwrap_or_else(|_| http::HeaderValue::from_static("req_unknown"));
                req.headers_mut().insert(REQUEST_ID, id.clone());
                id
            }
        };
        let state = self.state.clone();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let mut resp = fut.await?;
            let took = started.elapsed();
            let status = resp.status().as_u16();
            state.metrics.http(route, &method, status, took);
            tracing::info!(
                target: "indoxrouter::access",
                request_id = id.to_str().unwrap_or_default(),
                method = method.as_str(),
                route,
                status,
                micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
                "request"
            );
            resp.headers_mut().entry(REQUEST_ID).or_insert(id);
            Ok(resp)
        })
    }
}

/// Serves until `signal` resolves, then shuts down gracefully.
pub async fn serve(state: Arc<AppState>, listener: TcpListener, signal: impl Future<Output = ()>) {
    let routes = crate::routes::routes(state.clone());
    let graceful = GracefulShutdown::new();
    let mut signal = std::pin::pin!(signal);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((io, _peer)) => {
                    let _ = io.set_nodelay(true);
                    let svc = TowerToHyperService::new(Measured {
                        inner: warp::service(routes.clone()),
                        state: state.clone(),
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        // Slow-header clients (slowloris) are cut off.
                        .timer(TokioTimer::new())
                        .header_read_timeout(HEADER_READ_TIMEOUT)
                        .serve_connection(TokioIo::new(io), svc);
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off briefly.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = &mut signal => break,
        }
    }
    drop(listener);
    state
        .accepting
        .store(false, std::sync::atomic::Ordering::SeqCst);
    tracing::info!("shutting down: finishing in-flight requests");
    let deadline = tokio::time::Instant::now() + state.shutdown_grace;
    let mut finishing = std::pin::pin!(graceful.shutdown());
    if tokio::time::timeout_at(deadline, &mut finishing)
        .await
        .is_err()
    {
        // A stream whose provider has gone quiet, or whose client stopped
        // reading, would hold shutdown up indefinitely; interrupted work
        // settles what it delivered.
        tracing::warn!("requests still running after the grace period; interrupting them");
        state.interrupt.cancel();
        let _ = tokio::time::timeout(crate::state::SETTLE_BOUND, finishing).await;
    }
    state.close(deadline).await;
    tracing::info!("shutdown complete");
}

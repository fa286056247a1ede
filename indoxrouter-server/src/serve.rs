//! The accept loop: TCP_NODELAY on every connection, HTTP/1.1 keep-alive, a
//! cap on connections served at once, a deadline on every request body, and
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
    /// The connection's peer, handed to the routes as [`Peer`].
    peer: std::net::IpAddr,
}

/// The address a request's connection comes from (a request extension).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub std::net::IpAddr);

impl<S, B> tower_service::Service<http::Request<B>> for Measured<S>
where
    S: tower_service::Service<http::Request<Deadline<B>>, Response = warp::reply::Response>,
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
        req.extensions_mut().insert(Peer(self.peer));
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
        let timeout = state.body_timeout;
        let fut = self
            .inner
            .call(req.map(|body| Deadline::new(body, timeout)));
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
            let headers = resp.headers_mut();
            headers.entry(REQUEST_ID).or_insert(id);
            // API answers are data, never pages: no sniffing them into HTML,
            // no scripts, no framing. The docs pages set their own policy.
            headers
                .entry(http::header::X_CONTENT_TYPE_OPTIONS)
                .or_insert(http::HeaderValue::from_static("nosniff"));
            headers
                .entry(http::header::CONTENT_SECURITY_POLICY)
                .or_insert(http::HeaderValue::from_static(
                    "default-src 'none'; frame-ancestors 'none'",
                ));
            Ok(resp)
        })
    }
}

/// Serves until `signal` resolves, then shuts down gracefully.
pub async fn serve(state: Arc<AppState>, listener: TcpListener, signal: impl Future<Output = ()>) {
    let routes = crate::routes::routes(state.clone());
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(tokio::sync::Semaphore::new(state.max_connections));
    let mut signal = std::pin::pin!(signal);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((io, peer)) => {
                    // Over the cap: closed at once, before any byte is read.
                    let Ok(permit) = connections.clone().try_acquire_owned() else {
                        state.metrics.connection_refused();
                        drop(io);
                        continue;
                    };
                    let _ = io.set_nodelay(true);
                    let svc = TowerToHyperService::new(Measured {
                        inner: warp::service(routes.clone()),
                        state: state.clone(),
                        peer: peer.ip(),
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
                        drop(permit);
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

/// A request body that must arrive in full by a deadline. hyper bounds the
/// time to read headers but not the body: without this a client announcing
/// a large `Content-Length` and sending a byte every few seconds holds its
/// socket and buffer for as long as it likes. Past the deadline the body
/// fails, the request is answered 400 and hyper closes the connection.
pub struct Deadline<B> {
    inner: B,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl<B> Deadline<B> {
    fn new(inner: B, timeout: Duration) -> Self {
        Deadline {
            inner,
            deadline: Box::pin(tokio::time::sleep(timeout)),
        }
    }
}

/// The body error after the deadline passed.
#[derive(Debug)]
struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimedOut {}

impl<B> hyper::body::Body for Deadline<B>
where
    B: hyper::body::Body + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = B::Data;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        match std::pin::Pin::new(&mut this.inner).poll_frame(cx) {
            std::task::Poll::Ready(frame) => {
                std::task::Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            std::task::Poll::Pending => match this.deadline.as_mut().poll(cx) {
                std::task::Poll::Ready(()) => {
                    std::task::Poll::Ready(Some(Err(Box::new(BodyTimedOut))))
                }
                std::task::Poll::Pending => std::task::Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

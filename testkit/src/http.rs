//! The HTTP/1 server loop the local Runtime API and the fault proxy share.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{server::conn::http1, service::service_fn, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// Answers every request on every connection `listener` accepts with `handle`, each
/// connection on its own task (a client may hold a long poll open on one connection while
/// it sends on another). The tasks live in a `JoinSet`, so aborting this future's task
/// closes every connection too. An error from `handle` closes its connection unanswered.
pub async fn serve<F, Fut, E>(listener: TcpListener, handle: F)
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<Response<Full<Bytes>>, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Accept fails on transient conditions such as running out of file descriptors;
            // back off rather than spin or stop serving.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        // Without this, Nagle's algorithm and delayed ACKs can add tens of milliseconds to
        // every request, which the benchmarks would measure.
        let _ = stream.set_nodelay(true);
        while connections.try_join_next().is_some() {}
        let service = service_fn(handle.clone());
        connections.spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
    }
}

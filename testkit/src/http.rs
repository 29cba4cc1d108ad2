//! The HTTP/1 pieces the local Runtime API, the fault proxy and the stand-in share: a
//! server on a loopback port, answers, and forwarding to a local server.

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONNECTION, TRANSFER_ENCODING};
use hyper::{client, server::conn::http1, service::service_fn, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

pub type Answer = Response<Full<Bytes>>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A server on `127.0.0.1`; it stops serving, and closes every connection, when dropped.
#[derive(Debug)]
pub struct Served {
    pub address: SocketAddr,
    pub endpoint: String,
    task: JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `handle` on a port of `127.0.0.1` the OS picks, on the current tokio runtime:
/// every request on every connection, each connection on its own task (a client may hold a
/// long poll open on one connection while it sends on another). The tasks live in a
/// `JoinSet`, so aborting the server's task closes every connection too. An error from
/// `handle` closes its connection unanswered.
pub fn start<F, Fut, E>(handle: F) -> io::Result<Served>
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<Answer, E>> + Send + 'static,
    E: Into<BoxError> + 'static,
{
    let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let listener = {
        let _entered = runtime.enter();
        TcpListener::from_std(listener)?
    };
    let task = runtime.spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                // Accept fails on transient conditions such as running out of file
                // descriptors; back off rather than spin or stop serving.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            // Without this, Nagle's algorithm and delayed ACKs can add tens of milliseconds
            // to every request, which the benchmarks would measure.
            let _ = stream.set_nodelay(true);
            while connections.try_join_next().is_some() {}
            let service = service_fn(handle.clone());
            let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            connections.spawn(connection);
        }
    });
    Ok(Served {
        address,
        endpoint: format!("http://{address}"),
        task,
    })
}

/// An answer of `status` with `body` and `headers`; a header whose value is not a valid
/// header value is left out rather than panicked on.
pub fn answer(
    status: StatusCode,
    body: impl Into<Bytes>,
    headers: &[(&'static str, &str)],
) -> Answer {
    let mut answer = Response::new(Full::new(body.into()));
    *answer.status_mut() = status;
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(value) {
            answer.headers_mut().insert(*name, value);
        }
    }
    answer
}

/// Sends `request` to the local server at `upstream` on a fresh connection and returns its
/// answer whole, or a `502` that says why there is none.
pub async fn forward(upstream: SocketAddr, request: Request<Full<Bytes>>) -> Answer {
    let sent = async {
        let stream = TcpStream::connect(upstream).await?;
        let _ = stream.set_nodelay(true);
        let (mut sender, connection) = client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        let (mut parts, body) = sender.send_request(request).await?.into_parts();
        let body = body.collect().await?.to_bytes();
        // The body is whole now: its length, not the upstream's framing, describes it.
        parts.headers.remove(TRANSFER_ENCODING);
        parts.headers.remove(CONNECTION);
        Ok::<_, BoxError>(Response::from_parts(parts, Full::new(body)))
    };
    match sent.await {
        Ok(answered) => answered,
        Err(err) => answer(StatusCode::BAD_GATEWAY, err.to_string(), &[]),
    }
}

//! The Lambda functions' HTTP client for the SDK: hyper over rustls, trusting the rustls
//! configuration it is given (`roots::client_config`) and nothing else.
//!
//! Why not the SDK's own client (aws-smithy-http-client): it takes trust roots only as PEM
//! (`TrustStore`), which it parses again for every connector it builds, besides the system's
//! store, and it has no public way to wrap a connector of ours. So this module does, for the
//! clients we use, what that client's `Adapter` does: it bounds a connection's set-up by the
//! connect timeout and the wait for a response by the read timeout, tells the SDK how a
//! request failed (a timeout, a broken connection, which it retries, or anything else), and
//! lets the SDK poison a connection after a transient error, so a retry opens a new one. The
//! operation and attempt timeouts and the retries stay the SDK's own (`sdk::loader`).
//!
//! Differences from the SDK's client, on purpose: HTTP/1.1 only (DynamoDB, CloudWatch and
//! ECS answer their JSON and query protocols over it, and a function sends one request at a
//! time), and no proxy (the SDK's client sets none either unless asked to).

use std::borrow::Cow;
use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connection::{CaptureSmithyConnection, ConnectionMetadata};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;
use http::Uri;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::{
    capture_connection, CaptureConnection, HttpConnector as TcpConnector, HttpInfo,
};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tower_service::Service;

/// The SDK's HTTP client over `tls`. The configuration is built once, by the caller, and
/// shared by every connector: nothing about trust is done again on the first request.
pub fn client(tls: rustls::ClientConfig) -> SharedHttpClient {
    SharedHttpClient::new(RustlsClient {
        tls,
        connectors: Mutex::default(),
    })
}

/// The timeouts a connector enforces itself; the SDK asks for a connector per set of them.
type Timeouts = (Option<Duration>, Option<Duration>);

#[derive(Debug)]
struct RustlsClient {
    tls: rustls::ClientConfig,
    /// One connector, and so one connection pool, per set of timeouts: every SDK client of a
    /// process (DynamoDB and CloudWatch share an endpoint's connections this way) asks with
    /// the same settings, so there is one.
    connectors: Mutex<HashMap<Timeouts, SharedHttpConnector>>,
}

impl HttpClient for RustlsClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let timeouts = (settings.connect_timeout(), settings.read_timeout());
        // A poisoned lock only means another thread panicked while inserting; the map is
        // still whole.
        let mut connectors = self
            .connectors
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        connectors
            .entry(timeouts)
            .or_insert_with(|| SharedHttpConnector::new(RustlsConnector::new(&self.tls, timeouts)))
            .clone()
    }

    /// What the SDK's user agent names as the HTTP client, as its own hyper client says.
    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        Some(ConnectorMetadata::new("hyper", Some(Cow::Borrowed("1.x"))))
    }
}

/// A hyper client (its connection pool) with the connect and read timeouts it enforces.
struct RustlsConnector {
    client: Client<ConnectTimeout, SdkBody>,
    read_timeout: Option<Duration>,
}

impl fmt::Debug for RustlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RustlsConnector")
            .field("read_timeout", &self.read_timeout)
            .finish_non_exhaustive()
    }
}

impl RustlsConnector {
    fn new(tls: &rustls::ClientConfig, (connect_timeout, read_timeout): Timeouts) -> Self {
        let mut tcp = TcpConnector::new();
        // As the SDK's client: a small request is never held back waiting for an ACK.
        tcp.set_nodelay(true);
        // The scheme decides: HTTPS for AWS, plain HTTP for a local endpoint (moto).
        tcp.enforce_http(false);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            // A clone of a rustls configuration shares its roots and provider (Arcs).
            .with_tls_config(tls.clone())
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let connector = ConnectTimeout {
            inner: https,
            limit: connect_timeout,
        };
        let client = Client::builder(TokioExecutor::new())
            // Without a timer the pool never closes an idle connection (hyper's 90 s).
            .pool_timer(TokioTimer::new())
            .build(connector);
        RustlsConnector {
            client,
            read_timeout,
        }
    }
}

impl HttpConnector for RustlsConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let mut request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(err) => return HttpConnectorFuture::ready(Err(ConnectorError::user(err.into()))),
        };
        // The SDK's retry strategy poisons the connection of a request that failed
        // transiently, through this, so that its retry does not reuse it.
        let captured = capture_connection(&mut request);
        if let Some(capture) = request.extensions().get::<CaptureSmithyConnection>() {
            capture.set_connection_retriever(move || connection_metadata(&captured));
        }
        let responding = self.client.request(request);
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let response = match read_timeout {
                None => responding.await,
                Some(limit) => match tokio::time::timeout(limit, responding).await {
                    Ok(response) => response,
                    Err(_) => {
                        let timed_out = TimedOut {
                            waiting_for: "a response",
                            limit,
                        };
                        return Err(ConnectorError::timeout(timed_out.into()));
                    }
                },
            };
            match response {
                Ok(response) => HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                    .map_err(|err| ConnectorError::other(err.into(), None)),
                Err(err) => Err(classify(err.into())),
            }
        })
    }
}

/// What the SDK learns of the connection a request went over: its addresses, and how to
/// poison it.
fn connection_metadata(captured: &CaptureConnection) -> Option<ConnectionMetadata> {
    let connected = captured.connection_metadata();
    let connected = connected.as_ref()?;
    let mut extras = http::Extensions::new();
    connected.get_extras(&mut extras);
    let info = extras.get::<HttpInfo>();
    let captured = captured.clone();
    let mut metadata = ConnectionMetadata::builder()
        .proxied(connected.is_proxied())
        .poison_fn(move || {
            if let Some(connected) = captured.connection_metadata().as_ref() {
                connected.poison();
            }
        });
    metadata
        .set_local_addr(info.map(HttpInfo::local_addr))
        .set_remote_addr(info.map(HttpInfo::remote_addr));
    Some(metadata.build())
}

/// How a request that got no response failed, as the SDK's client classifies it: the SDK
/// retries a timeout and an I/O error (a refused, reset or closed connection, a failed
/// handshake), and tells the other kinds apart in its errors.
fn classify(error: BoxError) -> ConnectorError {
    if find::<TimedOut>(error.as_ref()).is_some() {
        return ConnectorError::timeout(error);
    }
    if let Some(hyper_error) = find::<hyper::Error>(error.as_ref()) {
        return if hyper_error.is_timeout() {
            ConnectorError::timeout(error)
        } else if hyper_error.is_user() {
            ConnectorError::user(error)
        } else if hyper_error.is_closed()
            || hyper_error.is_canceled()
            || find::<std::io::Error>(hyper_error).is_some()
        {
            ConnectorError::io(error)
        } else if hyper_error.is_incomplete_message() {
            // A response cut short: the SDK's client calls it transient too.
            ConnectorError::other(error, Some(ErrorKind::TransientError))
        } else {
            ConnectorError::other(error, None)
        };
    }
    if let Some(client_error) = find::<hyper_util::client::legacy::Error>(error.as_ref()) {
        if client_error.is_connect() || find::<std::io::Error>(client_error).is_some() {
            return ConnectorError::io(error);
        }
    }
    ConnectorError::other(error, None)
}

/// The first error of type `E` in `error`'s chain of sources.
fn find<'a, E: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(found) = error.downcast_ref::<E>() {
            return Some(found);
        }
        next = error.source();
    }
    None
}

/// A connection's set-up (TCP, then the TLS handshake) or a response took longer than the
/// SDK's settings allow.
#[derive(Debug, thiserror::Error)]
#[error("no {waiting_for} within {limit:?}")]
struct TimedOut {
    waiting_for: &'static str,
    limit: Duration,
}

/// The HTTPS connector with the connect timeout over the whole set-up, handshake included,
/// as the SDK's client bounds it.
#[derive(Clone)]
struct ConnectTimeout {
    inner: HttpsConnector<TcpConnector>,
    limit: Option<Duration>,
}

type Connecting<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

impl Service<Uri> for ConnectTimeout {
    type Response = <HttpsConnector<TcpConnector> as Service<Uri>>::Response;
    type Error = BoxError;
    type Future = Connecting<Self::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.inner.call(uri);
        let limit = self.limit;
        Box::pin(async move {
            let Some(limit) = limit else {
                return connecting.await;
            };
            match tokio::time::timeout(limit, connecting).await {
                Ok(connected) => connected,
                Err(_) => Err(TimedOut {
                    waiting_for: "connection",
                    limit,
                }
                .into()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(error: ConnectorError) -> &'static str {
        if error.is_timeout() {
            "timeout"
        } else if error.is_io() {
            "io"
        } else if error.is_user() {
            "user"
        } else {
            match error.as_other() {
                Some(ErrorKind::TransientError) => "transient",
                _ => "other",
            }
        }
    }

    #[test]
    fn our_timeouts_are_timeouts_and_an_unknown_error_is_other() {
        let timed_out = TimedOut {
            waiting_for: "connection",
            limit: Duration::from_secs(2),
        };
        assert_eq!(timed_out.to_string(), "no connection within 2s");
        assert_eq!(kind(classify(Box::new(timed_out))), "timeout");
        assert_eq!(kind(classify("no idea".into())), "other");
    }
}

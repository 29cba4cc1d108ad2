//! TLS verification of the functions' HTTPS client stays whole with roots compiled in: real
//! handshakes with a local TLS server, through the very loader both functions use
//! (`sdk::loader_with`), a DynamoDB client and its `ListTables` call. A certificate whose CA
//! is outside the roots is refused for that reason, one for another name is refused, and one
//! from a test root inside them is accepted.

use std::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::Region;
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::error::SdkError;
use dispatch_aws::roots::Roots;
use dispatch_aws::sdk::{self, Caller};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{CertificateError, RootCertStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A certificate authority of the test's own.
struct TestCa {
    certificate: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    fn new(name: &str) -> TestCa {
        let key = KeyPair::generate().expect("a CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let certificate = params
            .self_signed(&key)
            .expect("a self-signed CA")
            .der()
            .clone();
        TestCa {
            certificate,
            issuer: Issuer::new(params, key),
        }
    }

    /// Roots that hold this CA only.
    fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots.add(self.certificate.clone()).expect("a usable root");
        roots
    }

    /// A server's certificate for `names`, signed by this CA, and its key.
    fn leaf(&self, names: &[&str]) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let key = KeyPair::generate().expect("a server key");
        let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
        let params = CertificateParams::new(names).expect("server parameters");
        let certificate = params.signed_by(&key, &self.issuer).expect("a signed leaf");
        (certificate.der().clone(), key.into())
    }
}

/// `ListTables`' answer with no table, as DynamoDB writes it.
const LIST_TABLES: &str = "{\"TableNames\":[]}";

/// A TLS server on loopback presenting `leaf`, answering every request `ListTables`'s empty
/// answer. It serves until the test's runtime ends.
async fn serve_tls(leaf: (CertificateDer<'static>, PrivateKeyDer<'static>)) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![leaf.0], leaf.1)
        .expect("a server configuration");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A refused handshake ends here, on the server's side, with the client's alert.
                let Ok(mut stream) = acceptor.accept(stream).await else {
                    return;
                };
                if read_request(&mut stream).await.is_some() {
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\n\
                         content-length: {}\r\n\r\n{LIST_TABLES}",
                        LIST_TABLES.len()
                    );
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.flush().await;
                }
            });
        }
    });
    address
}

/// A server that accepts connections and never says a word: a handshake that never ends.
async fn serve_silence() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    address
}

/// Reads one request, head and body, from `stream`; `None` if it closed first.
async fn read_request(stream: &mut (impl AsyncReadExt + Unpin)) -> Option<Vec<u8>> {
    let mut request = Vec::new();
    let mut buffer = [0; 4096];
    loop {
        let read = stream.read(&mut buffer).await.ok()?;
        if read == 0 {
            return None;
        }
        request.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&request);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if request.len() >= end + 4 + length {
                return Some(request);
            }
        }
    }
}

/// A DynamoDB client from the functions' loader with `roots`, pointed at `host`:`port`
/// over HTTPS, tried once (the SDK would retry a refused handshake as an I/O error).
async fn dynamodb(roots: Roots, host: &str, port: u16) -> aws_sdk_dynamodb::Client {
    let config = sdk::loader_with(Caller::Lambda, roots)
        .endpoint_url(format!("https://{host}:{port}"))
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&config)
}

/// Every error in `error`'s chain. After an `io::Error` the next is its payload: its
/// `source()` skips the payload, and hyper-rustls nests rustls's error two of them deep.
fn chain<'a>(error: &'a (dyn Error + 'static)) -> Vec<&'a (dyn Error + 'static)> {
    let mut errors = vec![error];
    let mut next = Some(error);
    while let Some(error) = next {
        next = match error.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn Error + 'static)),
            None => error.source(),
        };
        errors.extend(next);
    }
    errors
}

/// Calls `ListTables` and returns the rustls error its handshake was refused with.
async fn refused(client: &aws_sdk_dynamodb::Client) -> rustls::Error {
    let error = client
        .list_tables()
        .send()
        .await
        .expect_err("the handshake is refused");
    assert!(
        matches!(error, SdkError::DispatchFailure(_)),
        "refused before any request was sent: {error:?}"
    );
    chain(&error)
        .into_iter()
        .find_map(|error| error.downcast_ref::<rustls::Error>())
        .unwrap_or_else(|| panic!("no rustls error in {error:?}"))
        .clone()
}

#[tokio::test]
async fn a_certificate_from_a_ca_outside_the_roots_is_refused_as_an_unknown_issuer() {
    let trusted = TestCa::new("test root inside the roots");
    let stranger = TestCa::new("test CA outside the roots");
    let server = serve_tls(stranger.leaf(&["localhost", "127.0.0.1"])).await;

    let client = dynamodb(Roots::Custom(trusted.roots()), "127.0.0.1", server.port()).await;
    assert_eq!(
        refused(&client).await,
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
    );
}

#[tokio::test]
async fn the_compiled_roots_refuse_a_test_ca_as_an_unknown_issuer() {
    // The functions' default: Mozilla's roots, which hold no CA made a moment ago.
    let test_ca = TestCa::new("test CA");
    let server = serve_tls(test_ca.leaf(&["localhost", "127.0.0.1"])).await;

    let client = dynamodb(Roots::Compiled, "localhost", server.port()).await;
    assert_eq!(
        refused(&client).await,
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
    );
}

#[tokio::test]
async fn a_certificate_from_a_test_root_inside_the_roots_is_accepted() {
    let trusted = TestCa::new("test root inside the roots");
    let server = serve_tls(trusted.leaf(&["localhost", "127.0.0.1"])).await;

    for host in ["127.0.0.1", "localhost"] {
        let client = dynamodb(Roots::Custom(trusted.roots()), host, server.port()).await;
        let tables = client
            .list_tables()
            .send()
            .await
            .unwrap_or_else(|err| panic!("the handshake with {host} is accepted: {err:?}"));
        assert_eq!(tables.table_names(), [] as [String; 0]);
    }
}

#[tokio::test]
async fn a_certificate_from_a_root_inside_for_another_name_is_refused() {
    let trusted = TestCa::new("test root inside the roots");
    let server = serve_tls(trusted.leaf(&["dynamodb.us-east-1.amazonaws.com"])).await;

    let client = dynamodb(Roots::Custom(trusted.roots()), "127.0.0.1", server.port()).await;
    assert!(
        matches!(
            refused(&client).await,
            rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. })
        ),
        "refused for its name"
    );
}

#[tokio::test]
async fn a_handshake_that_never_ends_is_a_timeout_after_the_connect_timeout() {
    // The connect timeout bounds the TLS handshake too, as the SDK's own client does, so a
    // stuck handshake leaves the attempt time for its retry (sdk::CONNECT_TIMEOUT).
    let server = serve_silence().await;
    let client = dynamodb(Roots::Compiled, "127.0.0.1", server.port()).await;

    let started = Instant::now();
    let error = client.list_tables().send().await.expect_err("no handshake");
    let waited = started.elapsed();
    let SdkError::DispatchFailure(failure) = &error else {
        panic!("a dispatch failure: {error:?}");
    };
    assert!(failure.is_timeout(), "a timeout: {error:?}");
    assert!(
        waited >= sdk::CONNECT_TIMEOUT && waited < sdk::CONNECT_TIMEOUT + Duration::from_secs(1),
        "after the connect timeout: {waited:?}"
    );
}

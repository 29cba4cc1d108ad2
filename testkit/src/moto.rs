//! moto's server on a free loopback port: the real AWS APIs (DynamoDB, CloudFormation,
//! S3, Lambda, ...) without an account.
//!
//! It runs `scripts/moto_server.py`, which serializes moto's requests (so a conditional
//! write is atomic, as in DynamoDB) and counts them by operation.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{ConfigLoader, Region};
use aws_sdk_dynamodb::config::Credentials;

/// moto's region; us-east-1 is the one where S3 needs no location constraint.
pub const REGION: &str = "us-east-1";
/// How long moto may take to start (its first import is slow on a cold machine).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Why moto's server could not be started.
#[derive(Debug, thiserror::Error)]
pub enum MotoError {
    #[error("cannot start {python} {script} (run `make tools`): {source}")]
    Spawn {
        python: String,
        script: String,
        source: std::io::Error,
    },
    #[error(
        "moto's server did not answer within {timeout:?} (run `make tools`); its output:\n{output}"
    )]
    NotReady { timeout: Duration, output: String },
    #[error("cannot set up moto's server: {0}")]
    Io(#[from] std::io::Error),
}

/// A running moto server, stopped when dropped.
pub struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    /// Starts a server with the project's `.venv/tools` Python, else `$MOTO_PYTHON`,
    /// else `python3`, on a port the kernel picks.
    pub fn start() -> Result<Moto, MotoError> {
        let python = std::env::var_os("MOTO_PYTHON")
            .map(PathBuf::from)
            .or_else(|| {
                let local = crate::repo_root().join(".venv/tools/bin/python");
                local.exists().then_some(local)
            })
            .unwrap_or_else(|| PathBuf::from("python3"));
        let script = crate::repo_root().join("scripts/moto_server.py");
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        // moto's own output goes to a file, so a failed start can say why.
        let log_path = std::env::temp_dir().join(format!("moto-{port}.log"));
        let mut child = Command::new(&python)
            .arg(&script)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path)?)
            .spawn()
            .map_err(|source| MotoError::Spawn {
                python: python.display().to_string(),
                script: script.display().to_string(),
                source,
            })?;
        let deadline = Instant::now() + START_TIMEOUT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = child.try_wait()?.is_some();
            if exited || Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(MotoError::NotReady {
                    timeout: START_TIMEOUT,
                    output: std::fs::read_to_string(&log_path).unwrap_or_default(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_file(&log_path);
        Ok(Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        })
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The variables that point a process (the function, the AWS CLI) at this server
    /// with dummy credentials, so it can never reach a real account.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_SESSION_TOKEN", "testing"),
            ("AWS_REGION", REGION),
            ("AWS_DEFAULT_REGION", REGION),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
    }

    /// Points an SDK config loader (the function's own, with its retries and timeouts)
    /// at this server.
    pub fn configure(&self, loader: ConfigLoader) -> ConfigLoader {
        point_at(loader, &self.endpoint)
    }

    /// The requests served since the last reset, by operation (`UpdateItem`, `Query`,
    /// ...); `reset` starts a new count.
    pub fn request_counts(&self, reset: bool) -> serde_json::Value {
        let address = self.endpoint.trim_start_matches("http://");
        let method = if reset { "DELETE" } else { "GET" };
        let mut stream = TcpStream::connect(address).expect("moto is running");
        write!(
            stream,
            "{method} /_outpost/request-counts HTTP/1.0\r\nHost: {address}\r\n\r\n"
        )
        .expect("ask moto for its request counts");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("moto's request counts");
        let (_, body) = response
            .split_once("\r\n\r\n")
            .expect("an HTTP response with a body");
        serde_json::from_str(body).expect("request counts are JSON")
    }
}

/// Points `loader` at the moto server at `endpoint`, with its region and dummy
/// credentials, so nothing it builds can reach a real account.
pub fn point_at(loader: ConfigLoader, endpoint: &str) -> ConfigLoader {
    loader
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

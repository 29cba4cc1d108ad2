//! A local server that speaks DynamoDB (and, for moto, much more), on a free loopback
//! port, stopped when dropped:
//!
//! - moto's server: the real AWS APIs (DynamoDB, CloudFormation, S3, Lambda, ...) without
//!   an account, through `scripts/moto_server.py`, which serializes moto's requests (so a
//!   conditional write is atomic, as in DynamoDB) and counts them by operation;
//! - dynalite: a second, independent DynamoDB implementation (from npm), so the function
//!   is not tuned to one implementation's quirks.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{ConfigLoader, Region};
use aws_sdk_dynamodb::config::Credentials;

/// moto's region; us-east-1 is the one where S3 needs no location constraint.
pub const REGION: &str = "us-east-1";
/// How long a server may take to start (moto's first import is slow on a cold machine).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a server could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot start {program} (run `make tools`): {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error(
        "{program} did not answer within {timeout:?} (run `make tools`); its output:\n{output}"
    )]
    NotReady {
        program: String,
        timeout: Duration,
        output: String,
    },
    #[error("cannot set up a local server: {0}")]
    Io(#[from] std::io::Error),
}

/// Which implementation a [`Server`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Moto,
    Dynalite,
}

/// A running server, stopped when dropped.
pub struct Server {
    kind: Kind,
    child: Child,
    endpoint: String,
}

impl Server {
    /// moto, with the project's `.venv/tools` Python, else `$MOTO_PYTHON`, else `python3`.
    pub fn moto() -> Result<Server, ServerError> {
        let python = std::env::var_os("MOTO_PYTHON")
            .map(PathBuf::from)
            .or_else(|| {
                let local = crate::repo_root().join(".venv/tools/bin/python");
                local.exists().then_some(local)
            })
            .unwrap_or_else(|| PathBuf::from("python3"));
        let script = crate::repo_root().join("scripts/moto_server.py");
        Self::start(Kind::Moto, |port| {
            let mut command = Command::new(python);
            command
                .arg(script)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()]);
            command
        })
    }

    /// dynalite, as `make tools` installs it (`npm ci` in `testkit/dynalite`), in memory.
    pub fn dynalite() -> Result<Server, ServerError> {
        let script = crate::repo_root().join("testkit/dynalite/node_modules/dynalite/cli.js");
        Self::start(Kind::Dynalite, |port| {
            let mut command = Command::new("node");
            // Tables become ACTIVE at once; `table` still waits for it, as on AWS.
            command
                .arg(script)
                .args(["--port", &port.to_string(), "--createTableMs", "0"]);
            command
        })
    }

    /// Runs `command(port)` on a port the kernel picks and waits until it accepts
    /// connections. Its output goes to a file, so a failed start can say why.
    fn start(kind: Kind, command: impl FnOnce(u16) -> Command) -> Result<Server, ServerError> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log_path = std::env::temp_dir().join(format!("{kind:?}-{port}.log"));
        let log = std::fs::File::create(&log_path)?;
        let mut command = command(port);
        let program = format!("{kind:?} ({command:?})");
        let mut child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|source| ServerError::Spawn {
                program: program.clone(),
                source,
            })?;
        let deadline = Instant::now() + START_TIMEOUT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = child.try_wait()?.is_some();
            if exited || Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ServerError::NotReady {
                    program,
                    timeout: START_TIMEOUT,
                    output: std::fs::read_to_string(&log_path).unwrap_or_default(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_file(&log_path);
        Ok(Server {
            kind,
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        })
    }

    pub fn kind(&self) -> Kind {
        self.kind
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

    /// The requests moto served since the last reset, by operation (`UpdateItem`,
    /// `Query`, ...); `reset` starts a new count. Only moto counts.
    pub fn request_counts(&self, reset: bool) -> serde_json::Value {
        assert_eq!(self.kind, Kind::Moto, "only moto counts its requests");
        let method = if reset { "DELETE" } else { "GET" };
        let (_, body) = plain_request(&self.endpoint, method, "/_outpost/request-counts", &[], "");
        serde_json::from_str(&body).expect("request counts are JSON")
    }
}

/// One plain HTTP/1.0 request to the local server at `endpoint`, for what no SDK client
/// speaks (moto's control API, a query API moto answers unsigned); returns the status
/// code and the body.
pub fn plain_request(
    endpoint: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let address = endpoint.trim_start_matches("http://");
    let mut request = format!("{method} {path} HTTP/1.0\r\nHost: {address}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    let mut stream = TcpStream::connect(address).expect("the local server is running");
    stream
        .write_all(request.as_bytes())
        .unwrap_or_else(|err| panic!("{method} {path}: {err}"));
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .unwrap_or_else(|err| panic!("{method} {path}: no answer: {err}"));
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("{method} {path}: not an HTTP response: {response}"));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("{method} {path}: no status in {head}"));
    (status, body.to_owned())
}

/// Points `loader` at the local server at `endpoint`, with moto's region and dummy
/// credentials, so nothing it builds can reach a real account.
pub fn point_at(loader: ConfigLoader, endpoint: &str) -> ConfigLoader {
    loader
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
/// `testkit with-moto`: runs `command` with moto's server on a free loopback port, pointed
/// at it through AWS_ENDPOINT_URL with dummy credentials, and its CloudFormation calls
/// through the stand-in (`crate::stand_in`), which gives the stack (`$STACK_NAME`, else
/// the runbook's) the outputs AWS would: moto leaves them empty after a change-set deploy.
/// Everything else goes to moto as it is. Stops both afterwards and exits with the
/// command's status.
pub fn with_moto(command: &[String]) -> Result<std::process::ExitCode, String> {
    let moto = Server::moto().map_err(|err| err.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|err| err.to_string())?;
    let stand_in = runtime
        .block_on(crate::stand_in::StandIn::start(&moto))
        .map_err(|err| err.to_string())?;
    stand_in.leave_to_moto(true);
    let stack = std::env::var("STACK_NAME").unwrap_or_else(|_| contract::resources::STACK.into());
    stand_in.give_outputs(&stack, &crate::template::stack());
    let status = std::process::Command::new(&command[0])
        .args(&command[1..])
        .envs(moto.env())
        .env("AWS_ENDPOINT_URL_CLOUDFORMATION", stand_in.endpoint())
        // The AWS CLI must read no profile or pager of the person running it.
        .envs([
            ("AWS_PAGER", ""),
            ("AWS_CONFIG_FILE", "/dev/null"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ])
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_DEFAULT_PROFILE")
        .status()
        .map_err(|err| format!("cannot run {}: {err}", command[0]))?;
    drop(stand_in);
    drop(moto);
    Ok(match status.code() {
        Some(code) => std::process::ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => std::process::ExitCode::from(1),
    })
}

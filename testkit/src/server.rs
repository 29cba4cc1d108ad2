//! A local server that speaks DynamoDB (and, for moto, much more), on a free loopback
//! port, stopped when dropped:
//!
//! - moto's server: the real AWS APIs (DynamoDB, CloudFormation, S3, Lambda, ...) without
//!   an account, through `scripts/moto_server.py`, which serializes moto's requests (so a
//!   conditional write is atomic, as in DynamoDB) and counts them by operation;
//! - dynalite: a second, independent DynamoDB implementation (from npm), so the function
//!   is not tuned to one implementation's quirks.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{ConfigLoader, Region};
use aws_sdk_dynamodb::config::Credentials;

/// moto's region; us-east-1 is the one where S3 needs no location constraint.
pub const REGION: &str = "us-east-1";
/// The account moto answers as.
pub const ACCOUNT: &str = "123456789012";
/// What keeps the AWS CLI from reading the pager, profile or credentials of the person
/// running it.
pub(crate) const NO_PROFILE: [(&str, &str); 3] = [
    ("AWS_PAGER", ""),
    ("AWS_CONFIG_FILE", "/dev/null"),
    ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
];
/// How long a server may take to start (moto's first import is slow on a cold machine).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a server could not be started.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ServerError(String);

impl From<std::io::Error> for ServerError {
    fn from(err: std::io::Error) -> Self {
        ServerError(format!("cannot set up a local server: {err}"))
    }
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
    address: SocketAddr,
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
        let mut command = Command::new(python);
        command
            .arg(crate::repo_root().join("scripts/moto_server.py"))
            .args(["-H", "127.0.0.1"]);
        Self::start(Kind::Moto, command, "-p")
    }

    /// dynalite, as `make tools` installs it (`npm ci` in `testkit/dynalite`), in memory.
    pub fn dynalite() -> Result<Server, ServerError> {
        let mut command = Command::new("node");
        // Tables become ACTIVE at once; `table` still waits for it, as on AWS.
        command
            .arg(crate::repo_root().join("testkit/dynalite/node_modules/dynalite/cli.js"))
            .args(["--createTableMs", "0"]);
        Self::start(Kind::Dynalite, command, "--port")
    }

    /// Runs `command` with `port_flag` and a port the kernel picks, and waits until it
    /// accepts connections. Its output goes to a file, so a failed start can say why.
    fn start(kind: Kind, mut command: Command, port_flag: &str) -> Result<Server, ServerError> {
        let address = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let log_path = std::env::temp_dir().join(format!("{kind:?}-{}.log", address.port()));
        let log = std::fs::File::create(&log_path)?;
        command.args([port_flag, &address.port().to_string()]);
        let program = format!("{kind:?} ({command:?})");
        let mut child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|err| {
                ServerError(format!("cannot start {program} (run `make tools`): {err}"))
            })?;
        let deadline = Instant::now() + START_TIMEOUT;
        while TcpStream::connect(address).is_err() {
            let exited = child.try_wait()?.is_some();
            if exited || Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                let output = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(ServerError(format!(
                    "{program} did not answer within {START_TIMEOUT:?} (run `make tools`); \
                     its output:\n{output}"
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_file(&log_path);
        Ok(Server {
            kind,
            child,
            address,
            endpoint: format!("http://{address}"),
        })
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub(crate) fn address(&self) -> SocketAddr {
        self.address
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

    /// `program` pointed at this server, with no pager and none of the person's AWS
    /// configuration.
    pub(crate) fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        command
            .envs(self.env())
            .envs(NO_PROFILE)
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_DEFAULT_PROFILE");
        command
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
    let answered = TcpStream::connect(address).and_then(|mut stream| {
        stream.write_all(request.as_bytes())?;
        let mut response = String::new();
        stream.read_to_string(&mut response).map(|_| response)
    });
    let response = answered.unwrap_or_else(|err| panic!("{method} {path}: {err}"));
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("{method} {path}: not an HTTP response: {response}"));
    let status = head.split(' ').nth(1).and_then(|code| code.parse().ok());
    let status = status.unwrap_or_else(|| panic!("{method} {path}: no status in {head}"));
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
pub fn with_moto(
    runtime: &tokio::runtime::Runtime,
    command: &[String],
) -> Result<std::process::ExitCode, String> {
    let moto = Server::moto().map_err(|err| err.to_string())?;
    let stand_in = runtime
        .block_on(crate::stand_in::StandIn::start(&moto))
        .map_err(|err| err.to_string())?;
    stand_in.leave_to_moto(true);
    let stack = std::env::var("STACK_NAME").unwrap_or_else(|_| contract::resources::STACK.into());
    stand_in.give_outputs(&stack, &crate::template::stack());
    let status = moto
        .command(&command[0])
        .args(&command[1..])
        .env("AWS_ENDPOINT_URL_CLOUDFORMATION", stand_in.endpoint())
        .status()
        .map_err(|err| format!("cannot run {}: {err}", command[0]))?;
    let code = status.code().and_then(|code| u8::try_from(code).ok());
    Ok(std::process::ExitCode::from(code.unwrap_or(1)))
}

//! A local AWS Lambda Runtime API that runs a real custom-runtime `bootstrap` binary.
//!
//! [`RuntimeApi`] serves on `127.0.0.1` the endpoints Lambda serves inside a sandbox
//! (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>), and [`FunctionProcess`]
//! starts the function binary with the environment Lambda gives a custom runtime. The function
//! cannot tell the difference, so tests run the same binary and runtime client as AWS does.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::http::{answer, Answer, Served};

/// How long the function has to answer once it has taken an event. Lambda's default is three
/// seconds, but a local run starts cold on a busy laptop or CI runner, so this is forgiving.
pub const INVOCATION_TIMEOUT: Duration = Duration::from_secs(30);

const PREFIX: &str = "/2018-06-01/runtime/";

/// Why an invocation did not produce a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvocationError {
    /// The handler returned an error, posted to `/invocation/{id}/error`.
    #[error("function returned an error: {error_type}: {error_message}")]
    Function {
        error_type: String,
        error_message: String,
    },
    /// The function posted to `/init/error`, so it will never handle any invocation.
    #[error("function failed to initialize: {error_type}: {error_message}")]
    Init {
        error_type: String,
        error_message: String,
    },
    /// The function process exited (crashed, was killed, never polled) before answering.
    #[error("function process exited before responding ({status})")]
    Exited { status: String },
    #[error("function did not respond within its timeout")]
    TimedOut,
    #[error("function sent a response that is not JSON: {body}")]
    InvalidResponse { body: String },
}

type Outcome = Result<Value, InvocationError>;

/// An event waiting for the function's `GET /invocation/next`.
#[derive(Debug)]
struct Queued {
    request_id: String,
    event: Bytes,
    /// Tells `invoke` the function took the event, so the timeout starts then, as in Lambda.
    taken: oneshot::Sender<()>,
    answer: oneshot::Sender<Outcome>,
}

#[derive(Debug)]
struct Shared {
    function_name: String,
    /// How long the function has to answer an event it took.
    timeout: Duration,
    function_arn: String,
    queue: mpsc::UnboundedSender<Queued>,
    /// Behind an async lock because `/next` holds it for the whole long poll.
    next: tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    /// Set by an init error or the process's exit: nothing will be answered any more, so every
    /// waiting or later invocation fails at once instead of waiting for a poll that never comes.
    failure: watch::Sender<Option<InvocationError>>,
    first_poll: watch::Sender<Option<Instant>>,
}

impl Shared {
    /// Locks the map, recovering from poisoning: no critical section can leave it inconsistent,
    /// and the server must not panic because a test thread did.
    fn in_flight(&self) -> MutexGuard<'_, HashMap<String, oneshot::Sender<Outcome>>> {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps the first failure, because an init error says more than the exit that follows it.
    fn fail(&self, error: InvocationError) {
        self.failure.send_if_modified(|failure| {
            let first = failure.is_none();
            failure.get_or_insert(error);
            first
        });
    }

    async fn failed(&self) -> Option<InvocationError> {
        let mut failure = self.failure.subscribe();
        let failure = failure.wait_for(Option::is_some).await.ok()?;
        failure.clone()
    }
}

/// A local Lambda Runtime API on `127.0.0.1`; it stops serving when dropped.
#[derive(Debug)]
pub struct RuntimeApi {
    shared: Arc<Shared>,
    served: Served,
}

impl RuntimeApi {
    /// Binds `127.0.0.1` on a port the OS picks and serves on the current tokio runtime;
    /// the function has [`INVOCATION_TIMEOUT`] to answer each event.
    pub fn start(function_name: &str) -> io::Result<Self> {
        Self::start_with_timeout(function_name, INVOCATION_TIMEOUT)
    }

    /// The same, the function having `timeout` to answer each event (its template's
    /// `Timeout`, for a run that must see what the deployed function could do).
    pub fn start_with_timeout(function_name: &str, timeout: Duration) -> io::Result<Self> {
        let (queue, next) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            function_name: function_name.to_owned(),
            timeout,
            function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{function_name}"),
            queue,
            next: tokio::sync::Mutex::new(next),
            in_flight: Mutex::default(),
            failure: watch::Sender::new(None),
            first_poll: watch::Sender::new(None),
        });
        let served = crate::http::start({
            let shared = Arc::clone(&shared);
            move |request| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(route(&shared, request).await) }
            }
        })?;
        Ok(Self { shared, served })
    }

    /// Queues `event` behind earlier ones and waits for the function to take and answer it.
    /// Dropping the future withdraws the event if the function has not taken it yet.
    pub async fn invoke(&self, event: Value) -> Result<Value, InvocationError> {
        self.invoke_as(&crate::request_id(), event).await
    }

    /// Invokes asynchronously, as EventBridge invokes the callback: an invocation that
    /// fails is delivered again, with the same request ID, up to `retries` more times (the
    /// function's `MaximumRetryAttempts`); what still fails would rest in the on-failure
    /// queue. Lambda waits a minute or two between deliveries; this delivers at once.
    pub async fn invoke_async(&self, event: Value, retries: u32) -> Delivery {
        let request_id = crate::request_id();
        let mut attempts = Vec::new();
        while attempts.len() <= retries as usize && !matches!(attempts.last(), Some(Ok(_))) {
            attempts.push(self.invoke_as(&request_id, event.clone()).await);
        }
        Delivery {
            request_id,
            attempts,
        }
    }

    async fn invoke_as(&self, request_id: &str, event: Value) -> Result<Value, InvocationError> {
        let request_id = request_id.to_owned();
        let (taken, was_taken) = oneshot::channel();
        let (answer, answered) = oneshot::channel();
        let event = Bytes::from(event.to_string());
        let queued = Queued {
            request_id: request_id.clone(),
            event,
            taken,
            answer,
        };
        // Neither this send nor the waits below can fail: the other ends live in `self.shared`.
        let _ = self.shared.queue.send(queued);
        let outcome = tokio::select! {
            biased;
            Ok(outcome) = answered => outcome,
            Some(error) = self.shared.failed() => Err(error),
            _ = async {
                let _ = was_taken.await;
                tokio::time::sleep(self.shared.timeout).await;
            } => Err(InvocationError::TimedOut),
        };
        // Unless answered, the function must not answer this invocation any more.
        self.shared.in_flight().remove(&request_id);
        outcome
    }

    /// When the function first asked for an event, waiting for it if it has not yet;
    /// minus [`FunctionProcess::started_at`] it is the cold start.
    pub async fn first_poll(&self) -> Instant {
        let mut first_poll = self.shared.first_poll.subscribe();
        let polled = first_poll.wait_for(Option::is_some).await.ok();
        polled.and_then(|at| *at).unwrap_or_else(Instant::now)
    }
}

/// How an asynchronous invocation went: every delivery of one event, under one request ID.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub request_id: String,
    /// Each delivery's outcome, in order; only the last can be a response.
    pub attempts: Vec<Result<Value, InvocationError>>,
}

impl Delivery {
    /// The function's response, if a delivery was answered.
    pub fn response(&self) -> Option<&Value> {
        self.attempts.last()?.as_ref().ok()
    }

    pub fn errors(&self) -> impl Iterator<Item = &InvocationError> {
        self.attempts
            .iter()
            .filter_map(|attempt| attempt.as_ref().err())
    }
}

async fn route(shared: &Shared, request: Request<Incoming>) -> Answer {
    let (parts, body) = request.into_parts();
    let Ok(body) = body.collect().await.map(|body| body.to_bytes()) else {
        return reply(StatusCode::BAD_REQUEST);
    };
    let header = parts.headers.get("lambda-runtime-function-error-type");
    let header = header.and_then(|value| value.to_str().ok());
    let path = parts.uri.path().strip_prefix(PREFIX).unwrap_or_default();
    match (parts.method, path.split('/').collect::<Vec<_>>().as_slice()) {
        (Method::GET, ["invocation", "next"]) => next_invocation(shared).await,
        (Method::POST, ["invocation", id, "response"]) => {
            let outcome = serde_json::from_slice(&body).map_err(|_| {
                let body = String::from_utf8_lossy(&body).into_owned();
                InvocationError::InvalidResponse { body }
            });
            settle(shared, id, outcome)
        }
        (Method::POST, ["invocation", id, "error"]) => {
            let (error_type, error_message) = parse_error(header, &body);
            let error = InvocationError::Function {
                error_type,
                error_message,
            };
            settle(shared, id, Err(error))
        }
        (Method::POST, ["init", "error"]) => {
            let (error_type, error_message) = parse_error(header, &body);
            shared.fail(InvocationError::Init {
                error_type,
                error_message,
            });
            reply(StatusCode::ACCEPTED)
        }
        _ => reply(StatusCode::NOT_FOUND),
    }
}

/// `GET /invocation/next`: a long poll for the next event whose caller still waits for it.
async fn next_invocation(shared: &Shared) -> Answer {
    shared.first_poll.send_if_modified(|first| {
        let unset = first.is_none();
        first.get_or_insert_with(Instant::now);
        unset
    });
    let mut next = shared.next.lock().await;
    while let Some(queued) = next.recv().await {
        // An event whose caller stopped waiting was withdrawn, and Lambda would not deliver it.
        if !queued.answer.is_closed() {
            let _ = queued.taken.send(());
            let request_id = queued.request_id;
            shared.in_flight().insert(request_id.clone(), queued.answer);
            return event_response(shared, &request_id, queued.event);
        }
    }
    reply(StatusCode::INTERNAL_SERVER_ERROR)
}

fn event_response(shared: &Shared, request_id: &str, event: Bytes) -> Answer {
    let deadline = SystemTime::now() + shared.timeout;
    let deadline_ms = deadline.duration_since(UNIX_EPOCH).unwrap_or_default();
    let deadline_ms = deadline_ms.as_millis().to_string();
    // A function name that is not a valid header value leaves out the ARN, not panics.
    let headers = [
        ("content-type", "application/json"),
        ("lambda-runtime-aws-request-id", request_id),
        ("lambda-runtime-deadline-ms", &deadline_ms),
        ("lambda-runtime-invoked-function-arn", &shared.function_arn),
    ];
    answer(StatusCode::OK, event, &headers)
}

fn settle(shared: &Shared, request_id: &str, outcome: Outcome) -> Answer {
    let Some(answer) = shared.in_flight().remove(request_id) else {
        return reply(StatusCode::BAD_REQUEST);
    };
    let _ = answer.send(outcome);
    reply(StatusCode::ACCEPTED)
}

/// The error type and message of an error post. The body's `errorType` wins over the header,
/// because `lambda_runtime` sends a generic header but the real type in the body; a body that
/// is not the documented JSON becomes the message.
fn parse_error(header: Option<&str>, body: &[u8]) -> (String, String) {
    let parsed: Value = serde_json::from_slice(body).unwrap_or_default();
    let field = |name: &str| parsed.get(name).and_then(Value::as_str);
    let error_type = field("errorType").or(header).unwrap_or("Unknown");
    let message = field("errorMessage").map_or_else(|| String::from_utf8_lossy(body), Into::into);
    (error_type.to_owned(), message.into_owned())
}

/// A reply without a body: the runtime client only looks at the status of what it posts.
fn reply(status: StatusCode) -> Answer {
    answer(status, Bytes::new(), &[])
}

/// Where the function's stdout and stderr go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Kept in memory; [`FunctionProcess::stop`] returns it.
    Capture,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// A line the function wrote, without its line ending; bytes that are not UTF-8 are replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputLine {
    pub stream: Stream,
    pub line: String,
}

/// A running function binary; it is killed when dropped, so a failing test leaves none behind.
#[derive(Debug)]
pub struct FunctionProcess {
    pid: Option<u32>,
    started_at: Instant,
    /// Sending on or dropping this makes the watcher kill the process.
    kill: oneshot::Sender<()>,
    /// How the process ended, once it has; closed unset if it could not be waited for.
    exit: watch::Receiver<Option<ExitStatus>>,
    readers: Vec<JoinHandle<()>>,
    captured: Arc<Mutex<Vec<OutputLine>>>,
}

impl FunctionProcess {
    /// Starts `binary` as the function `api` serves. It inherits our environment (so `PATH` or
    /// `RUST_LOG` reach it), then gets the variables Lambda sets for a custom runtime, then
    /// `env` over both. Once it exits, the invocations it has not answered and every later one
    /// fail with [`InvocationError::Exited`].
    pub fn spawn(
        binary: &Path,
        api: &RuntimeApi,
        env: &[(String, String)],
        output: Output,
    ) -> io::Result<Self> {
        let name = &api.shared.function_name;
        let pipe = || match output {
            Output::Null => Stdio::null(),
            Output::Capture => Stdio::piped(),
        };
        let mut command = Command::new(binary);
        command
            // As a string, the address served is the function's Runtime API.
            .env("AWS_LAMBDA_RUNTIME_API", api.served.address.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2024/01/01/[$LATEST]local")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("_HANDLER", "bootstrap")
            .envs(env.iter().map(|(key, value)| (key, value)))
            .stdin(Stdio::null())
            .stdout(pipe())
            .stderr(pipe())
            .kill_on_drop(true);

        let started_at = Instant::now();
        let mut child = command.spawn()?;
        let captured = Arc::default();
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let stdout = stdout.map(|pipe| read_lines(pipe, Stream::Stdout, &captured));
        let stderr = stderr.map(|pipe| read_lines(pipe, Stream::Stderr, &captured));
        let readers = stdout.into_iter().chain(stderr).collect();
        let (kill, kill_rx) = oneshot::channel();
        let (exit_tx, exit) = watch::channel(None);
        let pid = child.id();
        let shared = Arc::clone(&api.shared);
        tokio::spawn(watch_process(child, kill_rx, exit_tx, shared));
        Ok(Self {
            pid,
            started_at,
            kill,
            exit,
            readers,
            captured,
        })
    }

    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// When the process was started, just before the `spawn` system call.
    pub fn started_at(&self) -> Instant {
        self.started_at
    }

    /// Waits for the process to end on its own.
    pub async fn exited(&self) -> io::Result<ExitStatus> {
        wait_for_exit(self.exit.clone()).await
    }

    /// Kills the process (as Lambda retires a sandbox), waits for it and, briefly, for its
    /// output, and returns how it ended and every line it wrote (with [`Output::Capture`]).
    /// The wait for output is bounded because a child process the function left behind
    /// could hold the pipes open.
    pub async fn stop(self) -> (io::Result<ExitStatus>, Vec<OutputLine>) {
        let _ = self.kill.send(());
        let status = wait_for_exit(self.exit).await;
        for reader in self.readers {
            let _ = tokio::time::timeout(Duration::from_secs(1), reader).await;
        }
        let captured = self.captured.lock().unwrap_or_else(PoisonError::into_inner);
        (status, captured.clone())
    }
}

async fn wait_for_exit(mut exit: watch::Receiver<Option<ExitStatus>>) -> io::Result<ExitStatus> {
    let status = exit.wait_for(Option::is_some).await.map(|status| *status);
    status
        .ok()
        .flatten()
        .ok_or_else(|| io::Error::other("could not wait for the function process"))
}

/// Owns the child: waits for it to exit, or kills it when told to or when the
/// [`FunctionProcess`] is dropped, then tells the API and the `FunctionProcess`.
async fn watch_process(
    mut child: Child,
    kill: oneshot::Receiver<()>,
    exit: watch::Sender<Option<ExitStatus>>,
    shared: Arc<Shared>,
) {
    let exited = tokio::select! {
        exited = child.wait() => exited,
        _ = kill => {
            let _ = child.start_kill();
            child.wait().await
        }
    };
    let status = match &exited {
        Ok(status) => status.to_string(),
        Err(error) => format!("could not wait for the process: {error}"),
    };
    shared.fail(InvocationError::Exited { status });
    exit.send_replace(exited.ok());
}

/// Keeps one of the function's streams, line by line, until it closes.
fn read_lines(
    pipe: impl AsyncRead + Unpin + Send + 'static,
    stream: Stream,
    captured: &Arc<Mutex<Vec<OutputLine>>>,
) -> JoinHandle<()> {
    let captured = Arc::clone(captured);
    tokio::spawn(async move {
        let mut reader = BufReader::new(pipe);
        let mut bytes = Vec::new();
        while matches!(reader.read_until(b'\n', &mut bytes).await, Ok(read) if read > 0) {
            let line = String::from_utf8_lossy(&bytes);
            let line = line.trim_end_matches(['\n', '\r']).to_owned();
            bytes.clear();
            let mut captured = captured.lock().unwrap_or_else(PoisonError::into_inner);
            captured.push(OutputLine { stream, line });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::parse_error;

    #[test]
    fn error_bodies_prefer_the_body_type_and_survive_garbage() {
        let body = br#"{"errorType":"MyError","errorMessage":"boom"}"#;
        let parsed = |body: &[u8]| parse_error(Some("unhandled"), body);
        assert_eq!(parsed(body), ("MyError".into(), "boom".into()));
        assert_eq!(parsed(b"not json"), ("unhandled".into(), "not json".into()));
        assert_eq!(parse_error(None, b""), ("Unknown".into(), String::new()));
    }
}

//! The Runtime API server and the invocation queue behind it.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::hash::{BuildHasher, Hasher};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch, Notify};
use tokio::task::JoinHandle;

/// The function name used when the caller does not choose one.
pub const DEFAULT_FUNCTION_NAME: &str = "local-function";

/// The invocation timeout used when the caller does not choose one. Lambda's own default is
/// three seconds, but a local run starts cold on a laptop, so the default is more forgiving.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Lambda rejects synchronous request and response payloads over 6 MB; we do the same so a
/// function that would fail in AWS does not pass here.
const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// The region and account in the ARN we hand to the function. They are fixed, obviously fake
/// values so nothing the function derives from its ARN can point at a real account.
const REGION: &str = "us-east-1";
const ACCOUNT_ID: &str = "123456789012";

const PREFIX: &str = "/2018-06-01/runtime/";

/// How the local API is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// The function name; it goes into the invoked function ARN, and [`crate::FunctionProcess`]
    /// passes it as `AWS_LAMBDA_FUNCTION_NAME`.
    pub function_name: String,
    /// How long the function has to answer an invocation once it has received it. The function
    /// sees the resulting deadline in `Lambda-Runtime-Deadline-Ms`.
    pub timeout: Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            function_name: DEFAULT_FUNCTION_NAME.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// Why an invocation did not produce a response.
///
/// Only [`InvocationError::Function`] is an ordinary outcome of a working function (its handler
/// returned an error); every other variant means the function or its process misbehaved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvocationError {
    /// The function reported an error for this invocation through `/invocation/{id}/error`.
    #[error("function returned an error: {error_type}: {error_message}")]
    Function {
        /// `errorType` from the error body, or the `Lambda-Runtime-Function-Error-Type` header
        /// when the body has none.
        error_type: String,
        /// `errorMessage` from the error body, or the raw body when it is not the usual JSON.
        error_message: String,
    },
    /// The function reported an initialization error through `/init/error`, so it will never
    /// handle this invocation.
    #[error("function failed to initialize: {error_type}: {error_message}")]
    Init {
        /// `errorType` from the error body, or the error type header.
        error_type: String,
        /// `errorMessage` from the error body.
        error_message: String,
    },
    /// The function received the event but did not answer before its deadline.
    #[error("function did not respond within {timeout:?}")]
    TimedOut {
        /// The configured invocation timeout.
        timeout: Duration,
    },
    /// The function process exited (crashed, was killed, or never started polling) before it
    /// answered this invocation.
    #[error("function process exited before responding ({status})")]
    Exited {
        /// How the process ended, for example `exit status: 101`.
        status: String,
    },
    /// The function posted a response that is not JSON or is larger than Lambda allows.
    #[error("function sent an invalid response: {reason}")]
    InvalidResponse {
        /// What was wrong with it.
        reason: String,
    },
    /// The API dropped the invocation without a result; this only happens while it shuts down.
    #[error("the local runtime API dropped the invocation")]
    Dropped,
}

type InvocationResult = Result<Value, InvocationError>;

/// An event waiting for the function to ask for it with `GET /invocation/next`.
struct Queued {
    request_id: String,
    event: Bytes,
    resolve: oneshot::Sender<InvocationResult>,
    /// Tells `invoke` that the function took the event, so its timeout starts only then, as in
    /// Lambda, and not while the event waits behind others.
    taken: oneshot::Sender<()>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Queued>,
    in_flight: HashMap<String, oneshot::Sender<InvocationResult>>,
    /// Set by `/init/error`; every later invocation fails with it until a new process starts.
    init_error: Option<InvocationError>,
    /// Set when the function process exits; invocations fail fast with it instead of waiting
    /// for a poll that will never come.
    exited: Option<InvocationError>,
    /// Counts function processes (and their exits), so a long poll left over from a dead
    /// process, or the exit of an old process, cannot affect the current one.
    generation: u64,
}

impl State {
    /// The error every invocation gets now, if the function can no longer answer any.
    fn failure(&self) -> Option<InvocationError> {
        self.init_error.clone().or_else(|| self.exited.clone())
    }

    /// Resolves every queued and in-flight invocation with `error`.
    fn fail_all(&mut self, error: &InvocationError) {
        for queued in self.queue.drain(..) {
            let _ = queued.resolve.send(Err(error.clone()));
        }
        for (_, resolve) in self.in_flight.drain() {
            let _ = resolve.send(Err(error.clone()));
        }
    }
}

pub(crate) struct Shared {
    config: ApiConfig,
    function_arn: String,
    state: Mutex<State>,
    /// Wakes long-polling `/next` requests when an event is queued or the process changes.
    wake: Notify,
    first_poll: watch::Sender<Option<Instant>>,
}

impl Shared {
    /// Locks the state. A poisoned lock is recovered rather than propagated: every critical
    /// section leaves the state consistent, and the API must not panic because a test did.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn function_name(&self) -> &str {
        &self.config.function_name
    }

    /// Prepares for a new function process: forgets the previous process's init error, exit and
    /// first poll, and releases long polls it left behind. Returns the new generation.
    pub(crate) fn begin_process(&self) -> u64 {
        let generation = {
            let mut state = self.lock();
            state.generation += 1;
            state.init_error = None;
            state.exited = None;
            state.generation
        };
        self.first_poll.send_replace(None);
        self.wake.notify_waiters();
        generation
    }

    /// Records that the process of `generation` exited, failing everything it was expected to
    /// answer. An exit of an older process is ignored.
    pub(crate) fn process_exited(&self, generation: u64, status: String) {
        let mut state = self.lock();
        if state.generation != generation {
            return;
        }
        state.generation += 1;
        let error = InvocationError::Exited { status };
        state.fail_all(&error);
        state.exited = Some(error);
        drop(state);
        self.wake.notify_waiters();
    }
}

/// A local Lambda Runtime API serving on `127.0.0.1`.
///
/// Dropping it stops the server and closes its connections.
pub struct RuntimeApi {
    shared: Arc<Shared>,
    address: SocketAddr,
    server: JoinHandle<()>,
    /// Dropping this sender tells every connection task to stop.
    _shutdown: watch::Sender<()>,
}

impl std::fmt::Debug for RuntimeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeApi")
            .field("address", &self.address)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RuntimeApi {
    /// Starts an API with [`ApiConfig::default`].
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(ApiConfig::default()).await
    }

    /// Binds `127.0.0.1` on a port the OS picks and serves the API in a background task of the
    /// current tokio runtime.
    pub async fn start_with(config: ApiConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let address = listener.local_addr()?;
        let function_arn = format!(
            "arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{}",
            config.function_name
        );
        let shared = Arc::new(Shared {
            config,
            function_arn,
            state: Mutex::new(State::default()),
            wake: Notify::new(),
            first_poll: watch::Sender::new(None),
        });
        let (shutdown, shutdown_rx) = watch::channel(());
        let server = tokio::spawn(serve(listener, Arc::clone(&shared), shutdown_rx));
        Ok(Self {
            shared,
            address,
            server,
            _shutdown: shutdown,
        })
    }

    /// The address the API listens on. As `"127.0.0.1:PORT"` it is the value of the
    /// `AWS_LAMBDA_RUNTIME_API` variable the function reads.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The configuration the API was started with.
    pub fn config(&self) -> &ApiConfig {
        &self.shared.config
    }

    /// The ARN the function receives in `Lambda-Runtime-Invoked-Function-Arn`.
    pub fn function_arn(&self) -> &str {
        &self.shared.function_arn
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Queues `event`, waits for the function to take and answer it, and returns the function's
    /// response.
    ///
    /// Events are handed out in the order `invoke` was called. The timeout starts when the
    /// function takes the event, so a queued event waits as long as it has to; it fails early
    /// only if the function reported an init error or its process exited. Dropping the returned
    /// future withdraws the event if the function has not taken it yet.
    pub async fn invoke(&self, event: Value) -> Result<Value, InvocationError> {
        let request_id = new_request_id();
        let (resolve, mut result) = oneshot::channel();
        let (taken, taken_rx) = oneshot::channel();
        {
            let mut state = self.shared.lock();
            if let Some(error) = state.failure() {
                return Err(error);
            }
            state.queue.push_back(Queued {
                request_id: request_id.clone(),
                event: Bytes::from(event.to_string()),
                resolve,
                taken,
            });
        }
        self.shared.wake.notify_one();

        // Wait for the function to take the event. If `taken` is dropped unsent, the event was
        // failed while queued and `result` already holds the error.
        tokio::select! {
            biased;
            outcome = &mut result => return outcome.unwrap_or(Err(InvocationError::Dropped)),
            _ = taken_rx => {}
        }

        let timeout = self.shared.config.timeout;
        match tokio::time::timeout(timeout, &mut result).await {
            Ok(outcome) => outcome.unwrap_or(Err(InvocationError::Dropped)),
            Err(_) => {
                let removed = self.shared.lock().in_flight.remove(&request_id).is_some();
                // If the entry was already gone, a result raced the timer and is waiting.
                match result.try_recv() {
                    Ok(outcome) if !removed => outcome,
                    _ => Err(InvocationError::TimedOut { timeout }),
                }
            }
        }
    }

    /// When the current function process first asked for an event (its first
    /// `GET /invocation/next`), waiting for it if it has not yet. Subtracting
    /// [`crate::FunctionProcess::started_at`] gives the cold start time.
    pub async fn first_poll(&self) -> Instant {
        let mut first_poll = self.shared.first_poll.subscribe();
        loop {
            if let Some(at) = *first_poll.borrow_and_update() {
                return at;
            }
            if first_poll.changed().await.is_err() {
                // The sender lives in `self.shared`, so this cannot happen while `self` exists.
                std::future::pending::<()>().await;
            }
        }
    }

    /// When the current function process first asked for an event, if it has.
    pub fn try_first_poll(&self) -> Option<Instant> {
        *self.shared.first_poll.borrow()
    }

    /// How many events are waiting for the function to take them.
    pub fn queued(&self) -> usize {
        self.shared.lock().queue.len()
    }

    /// The init error the function reported, if it reported one.
    pub fn init_error(&self) -> Option<InvocationError> {
        self.shared.lock().init_error.clone()
    }
}

/// Accepts connections until the API is dropped, serving each on its own task: the runtime
/// client keeps a long poll open on one connection while it posts on another.
async fn serve(listener: TcpListener, shared: Arc<Shared>, shutdown: watch::Receiver<()>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Accept fails on transient conditions such as running out of file descriptors;
                // back off briefly rather than spin or stop serving.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        // Requests and responses are small; without this, Nagle's algorithm and delayed ACKs
        // can add tens of milliseconds to every invocation and distort benchmarks.
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(route(&shared, request).await) }
            });
            let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = shutdown.changed() => {}
            }
        });
    }
}

async fn route(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return not_found(&path);
    };
    let segments: Vec<&str> = rest.split('/').collect();
    match (request.method(), segments.as_slice()) {
        (&Method::GET, ["invocation", "next"]) => next_invocation(shared).await,
        (&Method::POST, ["invocation", id, "response"]) => {
            let id = (*id).to_owned();
            post_response(shared, &id, request).await
        }
        (&Method::POST, ["invocation", id, "error"]) => {
            let id = (*id).to_owned();
            post_error(shared, &id, request).await
        }
        (&Method::POST, ["init", "error"]) => post_init_error(shared, request).await,
        _ => not_found(&path),
    }
}

/// `GET /invocation/next`: blocks until an event is queued and hands it out.
async fn next_invocation(shared: &Shared) -> Response<Full<Bytes>> {
    shared.first_poll.send_if_modified(|first| {
        let unset = first.is_none();
        if unset {
            *first = Some(Instant::now());
        }
        unset
    });
    let generation = shared.lock().generation;
    loop {
        // Register for a wake-up before looking at the queue, so an event queued between the
        // look and the wait is not missed.
        let woken = shared.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        {
            let mut state = shared.lock();
            if state.generation != generation {
                // This poll belongs to a process that has exited or been replaced; it must not
                // take an event meant for the next one.
                return error_response(
                    StatusCode::GONE,
                    "InvalidStateTransition",
                    "The function process this request belongs to is gone.",
                );
            }
            while let Some(queued) = state.queue.pop_front() {
                if queued.resolve.is_closed() {
                    // The caller stopped waiting; Lambda would not deliver it either.
                    continue;
                }
                let _ = queued.taken.send(());
                state
                    .in_flight
                    .insert(queued.request_id.clone(), queued.resolve);
                return event_response(shared, &queued.request_id, queued.event);
            }
        }
        woken.await;
    }
}

fn event_response(shared: &Shared, request_id: &str, event: Bytes) -> Response<Full<Bytes>> {
    let deadline = SystemTime::now() + shared.config.timeout;
    let deadline_ms = deadline
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_millis())
        .unwrap_or_default();
    let mut response = Response::new(Full::new(event));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let values = [
        ("lambda-runtime-aws-request-id", request_id.to_owned()),
        ("lambda-runtime-deadline-ms", deadline_ms.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            shared.function_arn.clone(),
        ),
        ("lambda-runtime-trace-id", trace_id(request_id)),
    ];
    for (name, value) in values {
        // All values are ASCII we built ourselves, except the function name in the ARN; a name
        // that is not a valid header value is left out rather than panicking.
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

/// `POST /invocation/{id}/response`.
async fn post_response(
    shared: &Shared,
    request_id: &str,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let body = read_body(request).await;
    let Some(resolve) = shared.lock().in_flight.remove(request_id) else {
        return invalid_request_id();
    };
    let (outcome, response) = match body {
        Ok(body) => match serde_json::from_slice::<Value>(&body) {
            Ok(value) => (Ok(value), accepted()),
            Err(error) => (
                Err(InvocationError::InvalidResponse {
                    reason: format!("response body is not JSON: {error}"),
                }),
                accepted(),
            ),
        },
        Err(too_large) => (
            Err(InvocationError::InvalidResponse {
                reason: too_large.to_string(),
            }),
            too_large.response(),
        ),
    };
    let _ = resolve.send(outcome);
    response
}

/// `POST /invocation/{id}/error`.
async fn post_error(
    shared: &Shared,
    request_id: &str,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let header_type = error_type_header(&request);
    let body = read_body(request).await;
    let Some(resolve) = shared.lock().in_flight.remove(request_id) else {
        return invalid_request_id();
    };
    let (error_type, error_message) = parse_error(header_type, body.as_deref().unwrap_or(b""));
    let _ = resolve.send(Err(InvocationError::Function {
        error_type,
        error_message,
    }));
    accepted()
}

/// `POST /init/error`: the function could not start, so nothing queued or in flight will be
/// answered; fail it all now and every later invocation on arrival.
async fn post_init_error(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let header_type = error_type_header(&request);
    let body = read_body(request).await;
    let (error_type, error_message) = parse_error(header_type, body.as_deref().unwrap_or(b""));
    let error = InvocationError::Init {
        error_type,
        error_message,
    };
    let mut state = shared.lock();
    state.fail_all(&error);
    state.init_error.get_or_insert(error);
    accepted()
}

fn error_type_header(request: &Request<Incoming>) -> Option<String> {
    request
        .headers()
        .get("lambda-runtime-function-error-type")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// Extracts the error type and message from an error body. The body's `errorType` wins over
/// the header because `lambda_runtime` always sends a generic header (`unhandled`) but puts the
/// actual error type in the body. A body that is not the documented JSON becomes the message.
fn parse_error(header_type: Option<String>, body: &[u8]) -> (String, String) {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|value| value.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let error_type = field("errorType")
        .or(header_type)
        .unwrap_or_else(|| "Unknown".to_owned());
    let error_message =
        field("errorMessage").unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    (error_type, error_message)
}

/// Why a request body could not be read.
#[derive(Debug, thiserror::Error)]
enum BodyError {
    #[error("response is larger than Lambda's {MAX_PAYLOAD_BYTES}-byte limit")]
    TooLarge,
    #[error("could not read the request body: {0}")]
    Read(String),
}

impl BodyError {
    fn response(&self) -> Response<Full<Bytes>> {
        match self {
            Self::TooLarge => error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                &format!("Exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes)."),
            ),
            Self::Read(message) => {
                error_response(StatusCode::BAD_REQUEST, "InvalidRequest", message)
            }
        }
    }
}

async fn read_body(request: Request<Incoming>) -> Result<Bytes, BodyError> {
    match Limited::new(request.into_body(), MAX_PAYLOAD_BYTES)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge),
        Err(error) => Err(BodyError::Read(error.to_string())),
    }
}

fn accepted() -> Response<Full<Bytes>> {
    json_response(StatusCode::ACCEPTED, &json!({"status": "OK"}))
}

fn invalid_request_id() -> Response<Full<Bytes>> {
    error_response(
        StatusCode::BAD_REQUEST,
        "InvalidRequestID",
        "Invalid request ID",
    )
}

fn not_found(path: &str) -> Response<Full<Bytes>> {
    error_response(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("No Runtime API endpoint at {path}"),
    )
}

/// An error in the shape the real Runtime API uses.
fn error_response(status: StatusCode, error_type: &str, message: &str) -> Response<Full<Bytes>> {
    json_response(
        status,
        &json!({"errorType": error_type, "errorMessage": message}),
    )
}

fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A request ID shaped like the UUIDs Lambda uses. The first half is random per process; the
/// last group is an invocation counter passed through a bijection on 48 bits (XOR with a random
/// key, then multiplication by an odd constant), so IDs look random but cannot repeat within a
/// process.
fn new_request_id() -> String {
    static PROCESS_BITS: OnceLock<(u64, u64)> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let (high, key) = *PROCESS_BITS.get_or_init(|| (random_u64(), random_u64()));
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let low = (count ^ key).wrapping_mul(0x9E37_79B9_7F4A_7C15) & 0xFFFF_FFFF_FFFF;
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xFFFF,
        high & 0xFFF,
        0x8000 | ((count >> 48) & 0x3FFF),
        low,
    )
}

/// Random bits from the standard library's randomly keyed hasher, which saves a dependency.
fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|since| since.as_nanos())
            .unwrap_or_default(),
    );
    hasher.finish()
}

/// An X-Ray trace header in the documented format, derived from the request ID so it is unique
/// per invocation too.
fn trace_id(request_id: &str) -> String {
    let hex: String = request_id.chars().filter(char::is_ascii_hexdigit).collect();
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or_default();
    let root = hex.get(8..32).unwrap_or("000000000000000000000000");
    let parent = hex.get(16..32).unwrap_or("0000000000000000");
    format!("Root=1-{seconds:08x}-{root};Parent={parent};Sampled=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_uuid_shaped_and_distinct() {
        let ids: Vec<String> = (0..1000).map(|_| new_request_id()).collect();
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        for id in &ids {
            let groups: Vec<usize> = id.split('-').map(str::len).collect();
            assert_eq!(groups, [8, 4, 4, 4, 12], "{id}");
        }
    }

    #[test]
    fn trace_ids_follow_the_documented_format() {
        let trace = trace_id(&new_request_id());
        assert!(trace.starts_with("Root=1-"), "{trace}");
        assert!(trace.contains(";Parent="), "{trace}");
        assert!(trace.ends_with(";Sampled=0"), "{trace}");
    }

    #[test]
    fn error_bodies_prefer_the_body_type_and_survive_garbage() {
        let body = br#"{"errorType":"MyError","errorMessage":"boom"}"#;
        assert_eq!(
            parse_error(Some("unhandled".into()), body),
            ("MyError".into(), "boom".into())
        );
        assert_eq!(
            parse_error(Some("Runtime.Crash".into()), b"not json"),
            ("Runtime.Crash".into(), "not json".into())
        );
        assert_eq!(parse_error(None, b""), ("Unknown".into(), String::new()));
    }
}

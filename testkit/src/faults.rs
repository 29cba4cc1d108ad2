//! A fault-injecting proxy for DynamoDB, between a client (the function's real binary,
//! through `AWS_ENDPOINT_URL`) and a local server (moto or dynalite).
//!
//! It fails chosen requests the ways DynamoDB and the network between fail them: a
//! throttle or a 500 before the request reaches the table, a 500 or a closed connection
//! after the write has happened (the response was lost), or a request held past the
//! client's attempt timeout and applied anyway (a late write). Faults come from a script
//! ("the next `UpdateItem` gets these"), for a targeted test, or from seeded chance per
//! operation, for a mixed run; a seed gives the same faults on every run as long as the
//! client's requests come in the same order.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tokio::sync::watch;

use crate::http::{answer, forward, Answer, Served};
use crate::server::Server;

/// One way a request fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// Answered `400 ProvisionedThroughputExceededException`; the table never sees it.
    ProvisionedThroughputExceeded,
    /// Answered `400 ThrottlingException`; the table never sees it.
    Throttling,
    /// Answered `500 InternalServerError`; the table never sees it.
    ServerError,
    /// Forwarded, so a write happens, then answered `500`: the response was lost.
    LostResponse,
    /// Forwarded, then the connection is closed with no response at all.
    Reset,
    /// Held past the client's attempt timeout, then forwarded anyway: the client has
    /// given up on it (and retried) by the time the table applies it.
    Held,
}

impl Fault {
    pub const ALL: [Fault; 6] = [
        Fault::ProvisionedThroughputExceeded,
        Fault::Throttling,
        Fault::ServerError,
        Fault::LostResponse,
        Fault::Reset,
        Fault::Held,
    ];

    /// Whether the request reaches the table (and a write happens).
    pub fn forwards(self) -> bool {
        matches!(self, Fault::LostResponse | Fault::Reset | Fault::Held)
    }

    /// The answer given instead of the table's, for the faults that answer at all.
    fn error_answer(self) -> Option<Answer> {
        // DynamoDB's JSON protocol names the error in `__type`, namespace first;
        // ThrottlingException comes from the namespace AWS services share.
        let (status, namespace, code, message) = match self {
            Fault::ProvisionedThroughputExceeded => (
                StatusCode::BAD_REQUEST,
                DYNAMODB,
                "ProvisionedThroughputExceededException",
                "The level of configured provisioned throughput for the table was exceeded.",
            ),
            Fault::Throttling => (
                StatusCode::BAD_REQUEST,
                "com.amazon.coral.availability",
                "ThrottlingException",
                "Rate of requests exceeds the allowed throughput.",
            ),
            Fault::ServerError | Fault::LostResponse => (
                StatusCode::INTERNAL_SERVER_ERROR,
                DYNAMODB,
                "InternalServerError",
                "Internal server error",
            ),
            Fault::Reset | Fault::Held => return None,
        };
        let body = format!(r#"{{"__type":"{namespace}#{code}","message":"{message}"}}"#);
        let headers = [
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amzn-requestid", "FAULTPROXY"),
            ("x-amzn-errortype", code),
        ];
        Some(answer(status, body, &headers))
    }
}

/// The namespace of DynamoDB's own errors.
const DYNAMODB: &str = "com.amazonaws.dynamodb.v20120810";

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Faults by seeded chance: each request of an operation listed is failed with its
/// operation's probability, by a kind drawn uniformly from `kinds`.
#[derive(Clone, Debug)]
pub struct Chaos {
    pub seed: u64,
    /// Probability of a fault per request, by operation (`UpdateItem`, `Query`, ...).
    pub rates: BTreeMap<String, f64>,
    pub kinds: Vec<Fault>,
}

impl Chaos {
    /// Every kind of fault at `rate` on each of `operations`.
    pub fn new(seed: u64, rate: f64, operations: &[&str]) -> Chaos {
        Chaos {
            seed,
            rates: operations
                .iter()
                .map(|operation| (operation.to_string(), rate))
                .collect(),
            kinds: Fault::ALL.to_vec(),
        }
    }
}

/// What the proxy did, by operation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Requests received, by operation.
    pub requests: BTreeMap<String, u64>,
    /// Faults injected, by operation and kind.
    pub faults: BTreeMap<(String, Fault), u64>,
}

impl Counts {
    /// Faults of `kind`, on every operation.
    pub fn of(&self, kind: Fault) -> u64 {
        let of_kind = self.faults.iter().filter(|((_, k), _)| *k == kind);
        of_kind.map(|(_, count)| count).sum()
    }

    pub fn total_faults(&self) -> u64 {
        self.faults.values().sum()
    }

    pub fn total_requests(&self) -> u64 {
        self.requests.values().sum()
    }
}

#[derive(Default)]
struct State {
    scripted: HashMap<String, VecDeque<Option<Fault>>>,
    chaos: Option<(Chaos, StdRng)>,
    counts: Counts,
}

struct Shared {
    upstream: SocketAddr,
    hold: Duration,
    state: Mutex<State>,
    /// Requests forwarded whose upstream answer has not come back yet.
    in_flight: watch::Sender<usize>,
}

impl Shared {
    /// The proxy must not panic because a test thread did; no section leaves it torn.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The fault for the next request of `operation`: the script's first, else chance.
    fn decide(&self, operation: &str) -> Option<Fault> {
        let mut state = self.state();
        let State {
            scripted,
            chaos,
            counts,
        } = &mut *state;
        *counts.requests.entry(operation.to_owned()).or_default() += 1;
        let fault = match scripted.get_mut(operation).and_then(VecDeque::pop_front) {
            Some(fault) => fault,
            None => chaos.as_mut().and_then(|(chaos, rng)| {
                let rate = chaos.rates.get(operation).copied().unwrap_or(0.0);
                // Draw for every listed request, faulted or not, so the sequence of
                // faults depends on the seed and the order of requests alone.
                let roll: f64 = rng.random();
                let kind = rng.random_range(0..chaos.kinds.len().max(1));
                chaos.kinds.get(kind).copied().filter(|_| roll < rate)
            }),
        };
        if let Some(fault) = fault {
            let key = (operation.to_owned(), fault);
            *counts.faults.entry(key).or_default() += 1;
        }
        fault
    }
}

/// The proxy, on `127.0.0.1`; it stops serving when dropped.
pub struct FaultProxy {
    shared: Arc<Shared>,
    served: Served,
}

/// Returned by the service to make hyper close the connection without answering.
#[derive(Debug, thiserror::Error)]
#[error("connection closed by the fault proxy")]
struct Closed;

impl FaultProxy {
    /// A proxy in front of `server` that forwards everything until told otherwise.
    /// [`Fault::Held`] requests wait `hold` before they are forwarded: give it more than
    /// the client's attempt timeout.
    pub async fn start(server: &Server, hold: Duration) -> io::Result<FaultProxy> {
        let shared = Arc::new(Shared {
            upstream: server.address(),
            hold,
            state: Mutex::default(),
            in_flight: watch::Sender::new(0),
        });
        let served = crate::http::start({
            let shared = Arc::clone(&shared);
            move |request| proxy(Arc::clone(&shared), request)
        })?;
        Ok(FaultProxy { shared, served })
    }

    pub fn endpoint(&self) -> &str {
        &self.served.endpoint
    }

    /// `server`'s variables for a process (see [`Server::env`]), with the endpoint
    /// pointing through this proxy.
    pub fn env(&self, server: &Server) -> Vec<(String, String)> {
        let mut env = server.env();
        for (name, value) in &mut env {
            if name == "AWS_ENDPOINT_URL" {
                value.clone_from(&self.served.endpoint);
            }
        }
        env
    }

    /// The next requests of `operation` get `faults`, in order (`None` forwards one
    /// untouched), before any chance is drawn.
    pub fn script(&self, operation: &str, faults: impl IntoIterator<Item = Option<Fault>>) {
        let mut state = self.shared.state();
        let queue = state.scripted.entry(operation.to_owned()).or_default();
        queue.extend(faults);
    }

    /// From now on, requests are failed by `chaos`'s seeded chance.
    pub fn chaos(&self, chaos: Chaos) {
        let rng = StdRng::seed_from_u64(chaos.seed);
        self.shared.state().chaos = Some((chaos, rng));
    }

    pub fn counts(&self) -> Counts {
        self.shared.state().counts.clone()
    }

    /// Waits until every forwarded request has been answered by the table, held ones
    /// included, so what a test reads afterwards is final.
    pub async fn quiet(&self) {
        let mut in_flight = self.shared.in_flight.subscribe();
        let _ = in_flight.wait_for(|count| *count == 0).await;
    }
}

async fn proxy(shared: Arc<Shared>, request: Request<Incoming>) -> Result<Answer, Closed> {
    let (parts, body) = request.into_parts();
    let Ok(body) = body.collect().await.map(|body| body.to_bytes()) else {
        return Err(Closed);
    };
    // DynamoDB's JSON protocol names the operation in a header: `DynamoDB_20120810.Query`.
    let target = parts.headers.get("x-amz-target");
    let target = target.and_then(|value| value.to_str().ok()).unwrap_or("");
    let operation = target.rsplit('.').next().unwrap_or(target);
    let fault = shared.decide(operation);

    if let Some(fault) = fault.filter(|fault| !fault.forwards()) {
        return fault.error_answer().ok_or(Closed);
    }
    let delay = match fault {
        Some(Fault::Held) => shared.hold,
        _ => Duration::ZERO,
    };
    let request = Request::from_parts(parts, Full::new(body));
    // Forwarded on a task of its own, so it completes even after the client has given
    // up on it and closed the connection (a held request does exactly that).
    shared.in_flight.send_modify(|count| *count += 1);
    let forwarded = tokio::spawn({
        let shared = Arc::clone(&shared);
        async move {
            tokio::time::sleep(delay).await;
            let answer = forward(shared.upstream, request).await;
            shared.in_flight.send_modify(|count| *count -= 1);
            answer
        }
    });
    let bad_gateway = |_| answer(StatusCode::BAD_GATEWAY, "forward task failed", &[]);
    let forwarded = forwarded.await.unwrap_or_else(bad_gateway);
    match fault {
        None | Some(Fault::Held) => Ok(forwarded),
        Some(fault) => fault.error_answer().ok_or(Closed),
    }
}

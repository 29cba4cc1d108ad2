//! An AWS-shaped stand-in for the two calls moto cannot serve, in front of moto: every
//! other request is forwarded to it unchanged.
//!
//! - Lambda `Invoke`: moto would need Docker to run the function. The stand-in records
//!   each invoke (function, invocation type, payload) and answers as Lambda does an
//!   asynchronous one, `202 Accepted`, or with a scripted failure.
//! - CloudWatch: the Rust SDK speaks its Smithy RPC v2 CBOR protocol, which moto does not.
//!   The stand-in answers `DescribeAlarms` and `GetMetricData` in that protocol from the
//!   alarms and metric values a test sets (moto creates no alarm from a template anyway).
//!
//! Point a process at it with `AWS_ENDPOINT_URL_LAMBDA` and `AWS_ENDPOINT_URL_CLOUDWATCH`.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use aws_smithy_cbor::Encoder;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::server::Server;

/// One recorded `Invoke`.
#[derive(Clone, Debug, PartialEq)]
pub struct Invocation {
    pub function: String,
    /// `Event` (asynchronous) or `RequestResponse`.
    pub invocation_type: String,
    pub payload: Value,
    /// Whether it was answered 202.
    pub accepted: bool,
}

#[derive(Debug, Default)]
struct State {
    invocations: Vec<Invocation>,
    /// The answers of the next invokes: `true` accepts, `false` fails with a 500.
    script: VecDeque<bool>,
    /// Alarm name to state (`OK`, `ALARM`, `INSUFFICIENT_DATA`).
    alarms: BTreeMap<String, String>,
    /// Metric query ID (`invocations`, `errors`, ...) to its values.
    metrics: BTreeMap<String, Vec<f64>>,
    /// CloudWatch operations answered, in order.
    cloudwatch_calls: Vec<String>,
}

/// The stand-in, stopped when dropped.
pub struct StandIn {
    state: Arc<Mutex<State>>,
    endpoint: String,
    server: JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

type Answer = Response<Full<Bytes>>;

impl StandIn {
    /// Starts in front of `server` (moto).
    pub async fn start(server: &Server) -> io::Result<StandIn> {
        let upstream: SocketAddr = server
            .endpoint()
            .trim_start_matches("http://")
            .parse()
            .map_err(|_| io::Error::other("moto is not on a loopback address"))?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(Mutex::new(State::default()));
        let server = tokio::spawn({
            let state = Arc::clone(&state);
            crate::http::serve(listener, move |request| {
                handle(Arc::clone(&state), upstream, request)
            })
        });
        Ok(StandIn {
            state,
            endpoint,
            server,
        })
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The variables that send a process's Lambda and CloudWatch calls here.
    pub fn env(&self) -> Vec<(String, String)> {
        ["AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_CLOUDWATCH"]
            .into_iter()
            .map(|name| (name.to_owned(), self.endpoint.clone()))
            .collect()
    }

    /// Every invoke so far.
    pub fn invocations(&self) -> Vec<Invocation> {
        self.state.lock().unwrap().invocations.clone()
    }

    /// The next invokes' answers, in order (`true`: 202; `false`: 500); then 202 again.
    pub fn script_invokes(&self, answers: impl IntoIterator<Item = bool>) {
        self.state.lock().unwrap().script.extend(answers);
    }

    /// Sets an alarm's state.
    pub fn set_alarm(&self, name: &str, state: &str) {
        let mut shared = self.state.lock().unwrap();
        shared.alarms.insert(name.to_owned(), state.to_owned());
    }

    /// Sets the values `GetMetricData` returns for a query ID.
    pub fn set_metric(&self, id: &str, values: &[f64]) {
        let mut shared = self.state.lock().unwrap();
        shared.metrics.insert(id.to_owned(), values.to_vec());
    }

    /// The CloudWatch operations answered, in order.
    pub fn cloudwatch_calls(&self) -> Vec<String> {
        self.state.lock().unwrap().cloudwatch_calls.clone()
    }
}

async fn handle(
    state: Arc<Mutex<State>>,
    upstream: SocketAddr,
    request: Request<Incoming>,
) -> Result<Answer, hyper::Error> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    let path = parts.uri.path().to_owned();
    if let Some(function) = invoked_function(&path) {
        let invocation_type = parts
            .headers
            .get("x-amz-invocation-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("RequestResponse")
            .to_owned();
        let mut shared = state.lock().unwrap();
        let accepted = shared.script.pop_front().unwrap_or(true);
        shared.invocations.push(Invocation {
            function,
            invocation_type,
            payload: serde_json::from_slice(&body).unwrap_or(Value::Null),
            accepted,
        });
        return Ok(if accepted {
            answer(StatusCode::ACCEPTED, "application/json", Bytes::new())
        } else {
            let mut failed = answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                "application/json",
                Bytes::from_static(br#"{"Type":"Service","message":"scripted failure"}"#),
            );
            failed.headers_mut().insert(
                "x-amzn-errortype",
                HeaderValue::from_static("ServiceException"),
            );
            failed
        });
    }
    if parts.headers.contains_key("smithy-protocol") {
        let operation = path.rsplit('/').next().unwrap_or_default().to_owned();
        let mut shared = state.lock().unwrap();
        shared.cloudwatch_calls.push(operation.clone());
        let body = match operation.as_str() {
            "DescribeAlarms" => describe_alarms(&shared.alarms),
            "GetMetricData" => get_metric_data(&shared.metrics),
            _ => {
                return Ok(answer(
                    StatusCode::BAD_REQUEST,
                    "text/plain",
                    Bytes::from(format!("the stand-in does not answer {operation}")),
                ))
            }
        };
        let mut ok = answer(StatusCode::OK, "application/cbor", Bytes::from(body));
        ok.headers_mut()
            .insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
        return Ok(ok);
    }
    let request = Request::from_parts(parts, Full::new(body));
    Ok(crate::faults::forward(upstream, request).await)
}

/// `/2015-03-31/functions/{name}/invocations` names the function invoked.
fn invoked_function(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/2015-03-31/functions/")?;
    let name = rest.strip_suffix("/invocations")?;
    // ARNs arrive percent-encoded (`:` as `%3A`, `$` as `%24`).
    Some(
        percent_encoding::percent_decode_str(name)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

fn describe_alarms(alarms: &BTreeMap<String, String>) -> Vec<u8> {
    let mut encoder = Encoder::new(Vec::new());
    encoder.map(1).str("MetricAlarms").array(alarms.len());
    for (name, state) in alarms {
        encoder
            .map(2)
            .str("AlarmName")
            .str(name)
            .str("StateValue")
            .str(state);
    }
    encoder.into_writer()
}

fn get_metric_data(metrics: &BTreeMap<String, Vec<f64>>) -> Vec<u8> {
    let mut encoder = Encoder::new(Vec::new());
    encoder.map(1).str("MetricDataResults").array(metrics.len());
    for (id, values) in metrics {
        encoder
            .map(3)
            .str("Id")
            .str(id)
            .str("StatusCode")
            .str("Complete")
            .str("Values")
            .array(values.len());
        for value in values {
            encoder.double(*value);
        }
    }
    encoder.into_writer()
}

fn answer(status: StatusCode, content_type: &'static str, body: Bytes) -> Answer {
    let mut answer = Response::new(Full::new(body));
    *answer.status_mut() = status;
    answer
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoke_paths_name_their_function() {
        assert_eq!(
            invoked_function("/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Acb%3A%24LATEST/invocations"),
            Some("arn:aws:lambda:us-east-1:1:function:cb:$LATEST".to_owned())
        );
        assert_eq!(
            invoked_function("/2015-03-31/functions/cb/configuration"),
            None
        );
    }
}

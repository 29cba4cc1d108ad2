//! An AWS-shaped stand-in for the calls moto cannot serve as AWS does, in front of moto:
//! every other request is forwarded to it unchanged.
//!
//! - Lambda `Invoke`: moto would need Docker to run the function. The stand-in records
//!   each invoke (function, invocation type, payload) and answers as Lambda does an
//!   asynchronous one, `202 Accepted`, or with a scripted failure.
//! - CloudWatch: the Rust SDK speaks its Smithy RPC v2 CBOR protocol, which moto does not.
//!   The stand-in answers `DescribeAlarms` and `GetMetricData` in that protocol from the
//!   alarms and metric values a test sets (moto creates no alarm from a template anyway).
//! - CloudFormation `ListStackResources`: moto lists each resource of a template it does
//!   not create (the alarms, among others) as a placeholder with no logical ID, type or
//!   physical ID. The stand-in forwards the call to moto and lists, in place of those
//!   placeholders, the resources a test says AWS would list (`testkit::stack` gives the
//!   template's), so the stack names its alarms as it does on AWS.
//!
//! A test can leave CloudWatch and the listing to moto ([`StandIn::leave_to_moto`]), to
//! see what `make local` sees.
//!
//! Point a process at it with `AWS_ENDPOINT_URL_LAMBDA`, `AWS_ENDPOINT_URL_CLOUDWATCH` and
//! `AWS_ENDPOINT_URL_CLOUDFORMATION` ([`StandIn::env`]).

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

/// A stack's resource as AWS's `ListStackResources` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackResource {
    pub logical_id: String,
    /// `AWS::CloudWatch::Alarm`, ...
    pub kind: String,
    pub physical_id: String,
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
    /// CloudWatch calls and stack listings go on to moto as they are, as without the
    /// stand-in.
    leave_to_moto: bool,
    /// What `ListStackResources` lists for the resources moto lists as placeholders.
    stack_resources: Vec<StackResource>,
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

    /// The variables that send a process's Lambda, CloudWatch and CloudFormation calls
    /// here.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            "AWS_ENDPOINT_URL_LAMBDA",
            "AWS_ENDPOINT_URL_CLOUDWATCH",
            "AWS_ENDPOINT_URL_CLOUDFORMATION",
        ]
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

    /// Leaves CloudWatch's calls and the stack's resource listing to moto (`true`), which
    /// answers them as `make local` has them: CloudWatch not at all, the listing with
    /// placeholders. `false` answers them as AWS does again. Lambda's `Invoke` stays here.
    pub fn leave_to_moto(&self, leave: bool) {
        self.state.lock().unwrap().leave_to_moto = leave;
    }

    /// Lists `resources` in `ListStackResources` answers in place of moto's placeholders:
    /// each one moto's answer does not name already.
    pub fn list_stack_resources(&self, resources: Vec<StackResource>) {
        self.state.lock().unwrap().stack_resources = resources;
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
    let leave_to_moto = state.lock().unwrap().leave_to_moto;
    if parts.headers.contains_key("smithy-protocol") && !leave_to_moto {
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
    let listing = is_list_stack_resources(&body) && !leave_to_moto;
    let request = Request::from_parts(parts, Full::new(body));
    let answer = crate::faults::forward(upstream, request).await;
    if !listing {
        return Ok(answer);
    }
    let resources = state.lock().unwrap().stack_resources.clone();
    Ok(completed_listing(answer, &resources).await)
}

/// Whether a (form-encoded, query protocol) request body is CloudFormation's
/// `ListStackResources`.
fn is_list_stack_resources(body: &[u8]) -> bool {
    body.split(|byte| *byte == b'&')
        .any(|pair| pair == b"Action=ListStackResources")
}

/// moto's successful `ListStackResources` answer, completed as [`complete_listing`] says;
/// any other answer as it came.
async fn completed_listing(answer: Answer, resources: &[StackResource]) -> Answer {
    if answer.status() != StatusCode::OK {
        return answer;
    }
    let (mut parts, body) = answer.into_parts();
    let Ok(body) = body.collect().await.map(|body| body.to_bytes());
    let xml = complete_listing(&String::from_utf8_lossy(&body), resources);
    // The body changed length: hyper sets the new one.
    parts.headers.remove(hyper::header::CONTENT_LENGTH);
    Response::from_parts(parts, Full::new(Bytes::from(xml)))
}

/// The placeholder moto lists for a resource it did not create.
const PLACEHOLDER: &str = "<LogicalResourceId/>";

/// A `ListStackResources` XML answer without moto's placeholders, and with each of
/// `resources` its answer does not name yet listed as AWS lists it. Pure.
fn complete_listing(xml: &str, resources: &[StackResource]) -> String {
    let close = "</StackResourceSummaries>";
    let (Some(open), Some(end)) = (xml.find("<StackResourceSummaries>"), xml.find(close)) else {
        return xml.to_owned();
    };
    let start = open + "<StackResourceSummaries>".len();
    let members: Vec<&str> = xml[start..end]
        .split_inclusive("</member>")
        .filter(|member| !member.contains(PLACEHOLDER))
        .collect();
    let mut listed = members.concat();
    for resource in resources {
        let named = format!(
            "<LogicalResourceId>{}</LogicalResourceId>",
            escape(&resource.logical_id)
        );
        if !listed.contains(&named) {
            listed.push_str(&format!(
                "<member>{named}<PhysicalResourceId>{}</PhysicalResourceId>\
                 <ResourceType>{}</ResourceType><ResourceStatus>CREATE_COMPLETE</ResourceStatus></member>",
                escape(&resource.physical_id),
                escape(&resource.kind)
            ));
        }
    }
    format!("{}{listed}{}", &xml[..start], &xml[end..])
}

/// Text as XML character data.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
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

    #[test]
    fn a_listing_names_what_moto_left_as_placeholders() {
        let member = |id: &str, physical: &str, kind: &str| {
            format!(
                "<member><LogicalResourceId>{id}</LogicalResourceId><PhysicalResourceId>{physical}\
                 </PhysicalResourceId><ResourceType>{kind}</ResourceType>\
                 <ResourceStatus>CREATE_COMPLETE</ResourceStatus></member>"
            )
        };
        let placeholder = "<member><LogicalResourceId/><PhysicalResourceId/><ResourceType/>\
                           <ResourceStatus>CREATE_COMPLETE</ResourceStatus></member>";
        let wrap = |members: &str| {
            format!(
                "<ListStackResourcesResponse><ListStackResourcesResult><StackResourceSummaries>\
                 {members}</StackResourceSummaries></ListStackResourcesResult></ListStackResourcesResponse>"
            )
        };
        let queue = member("Queue", "https://q", "AWS::SQS::Queue");
        let moto = wrap(&format!("{placeholder}{queue}{placeholder}"));
        let resources = [
            StackResource {
                logical_id: "Queue".into(),
                kind: "AWS::SQS::Queue".into(),
                physical_id: "not this one".into(),
            },
            StackResource {
                logical_id: "ErrorsAlarm".into(),
                kind: "AWS::CloudWatch::Alarm".into(),
                physical_id: "errors".into(),
            },
        ];
        let alarm = member("ErrorsAlarm", "errors", "AWS::CloudWatch::Alarm");
        assert_eq!(
            complete_listing(&moto, &resources),
            wrap(&format!("{queue}{alarm}"))
        );
        assert!(is_list_stack_resources(
            b"Action=ListStackResources&Version=2010-05-15&StackName=s"
        ));
        assert!(!is_list_stack_resources(
            b"Action=DescribeStacks&StackName=s"
        ));
    }
}

//! An AWS-shaped stand-in for the calls moto cannot serve as AWS does, in front of moto:
//! every other request is forwarded to it unchanged.
//!
//! - Lambda `Invoke`: moto would need Docker to run the function. The stand-in records
//!   each invoke (function, invocation type, payload) and answers as Lambda does an
//!   asynchronous one, `202 Accepted`, or with a scripted failure. Given a function's real
//!   binary under a local Runtime API ([`StandIn::run_function`]), it hands that
//!   function's synchronous invokes (`RequestResponse`) to it and answers with what it
//!   returned, as Lambda does.
//! - CloudWatch: the Rust SDK speaks its Smithy RPC v2 CBOR protocol, which moto does not.
//!   The stand-in answers `DescribeAlarms` and `GetMetricData` in that protocol from the
//!   alarms and metric values a test sets (moto creates no alarm from a template anyway).
//! - CloudFormation `ListStackResources`: moto lists each resource of a template it does
//!   not create (the alarms, among others) as a placeholder with no logical ID, type or
//!   physical ID. The stand-in lists, in place of those placeholders, the resources a test
//!   says AWS would list (`testkit::stack` gives the template's).
//! - CloudFormation `DescribeStacks`: moto leaves a stack's outputs empty after a
//!   change-set deploy (`aws cloudformation deploy`). For a stack a test names, the
//!   stand-in gives the outputs AWS would: the template's, resolved against the stack's
//!   resources as listed above.
//!
//! - CloudFormation `UpdateTerminationProtection`: moto 5.2.1 does not have it. The
//!   stand-in keeps each stack's setting, shows it in `DescribeStacks` answers
//!   (`EnableTerminationProtection`), and refuses `DeleteStack` of a protected stack with
//!   AWS's `ValidationError`, whether or not the rest is left to moto.
//!
//! - CloudFormation drift detection (`DetectStackDrift`,
//!   `DescribeStackDriftDetectionStatus`, `DescribeStackResourceDrifts`): moto 5.2.1 has
//!   none. The stand-in answers as CloudFormation does: complete at once, with the drifted
//!   resources a test sets ([`StandIn::drift`]; none by default, `IN_SYNC`).
//!
//! A test can leave CloudWatch and the listing to moto ([`StandIn::leave_to_moto`]), to
//! see what `make local` sees.
//!
//! Point a process at it with `AWS_ENDPOINT_URL_LAMBDA`, `AWS_ENDPOINT_URL_CLOUDWATCH` and
//! `AWS_ENDPOINT_URL_CLOUDFORMATION` ([`StandIn::env`]).

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use aws_smithy_cbor::Encoder;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::CONTENT_LENGTH;
use hyper::http::request;
use hyper::{Request, Response, StatusCode};
use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::Value;

use crate::http::{answer, forward, Answer, Served};
use crate::runtime::{InvocationError, RuntimeApi};
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
    /// CloudWatch calls and stack listings go on to moto as they are.
    leave_to_moto: bool,
    /// What `ListStackResources` lists for the resources moto lists as placeholders.
    stack_resources: Vec<StackResource>,
    /// Stack name to its template's `Outputs`, which `DescribeStacks` gives resolved.
    outputs: BTreeMap<String, Value>,
    /// The stacks with termination protection on.
    protected: std::collections::BTreeSet<String>,
    /// What drift detection finds.
    drifts: Vec<ResourceDrift>,
    /// Function name to the Runtime API its real binary polls.
    functions: BTreeMap<String, Arc<RuntimeApi>>,
}

/// A resource drift detection finds, with one changed property.
#[derive(Clone, Debug)]
pub struct ResourceDrift {
    pub logical_id: String,
    pub kind: String,
    /// `MODIFIED` or `DELETED`.
    pub status: String,
    pub property: String,
    pub expected: String,
    pub actual: String,
}

/// The stand-in, stopped when dropped.
pub struct StandIn {
    state: Arc<Mutex<State>>,
    served: Served,
}

impl StandIn {
    /// Starts in front of `server` (moto).
    pub async fn start(server: &Server) -> io::Result<StandIn> {
        let upstream = server.address();
        let state = Arc::new(Mutex::new(State::default()));
        let served = crate::http::start({
            let state = Arc::clone(&state);
            move |request| handle(Arc::clone(&state), upstream, request)
        })?;
        Ok(StandIn { state, served })
    }

    pub fn endpoint(&self) -> &str {
        &self.served.endpoint
    }

    /// The variables that send a process's Lambda, CloudWatch and CloudFormation calls
    /// here.
    pub fn env(&self) -> Vec<(String, String)> {
        let endpoint = &self.served.endpoint;
        ["LAMBDA", "CLOUDWATCH", "CLOUDFORMATION"]
            .into_iter()
            .map(|service| (format!("AWS_ENDPOINT_URL_{service}"), endpoint.clone()))
            .collect()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// Every invoke so far.
    pub fn invocations(&self) -> Vec<Invocation> {
        self.state().invocations.clone()
    }

    /// The next invokes' answers, in order (`true`: 202; `false`: 500); then 202 again.
    pub fn script_invokes(&self, answers: impl IntoIterator<Item = bool>) {
        self.state().script.extend(answers);
    }

    /// Hands `function`'s synchronous invokes to `api`, whose process is the function's
    /// real binary, and answers each with its result (as Lambda does: `200`, the response
    /// as the payload, or the error's with `X-Amz-Function-Error: Unhandled`). Scripted
    /// failures still come first; asynchronous invokes are still only recorded.
    pub fn run_function(&self, function: &str, api: Arc<RuntimeApi>) {
        self.state().functions.insert(function.to_owned(), api);
    }

    /// Sets an alarm's state.
    pub fn set_alarm(&self, name: &str, state: &str) {
        let (name, state) = (name.to_owned(), state.to_owned());
        self.state().alarms.insert(name, state);
    }

    /// Sets the values `GetMetricData` returns for a query ID.
    pub fn set_metric(&self, id: &str, values: &[f64]) {
        self.state().metrics.insert(id.to_owned(), values.to_vec());
    }

    /// The CloudWatch operations answered, in order.
    pub fn cloudwatch_calls(&self) -> Vec<String> {
        self.state().cloudwatch_calls.clone()
    }

    /// Leaves CloudWatch's calls and the stack's resource listing to moto (`true`), which
    /// answers them as `make local` has them: CloudWatch not at all, the listing with
    /// placeholders. `false` answers them as AWS does again. Lambda's `Invoke` and the
    /// stack's outputs stay here.
    pub fn leave_to_moto(&self, leave: bool) {
        self.state().leave_to_moto = leave;
    }

    /// Drift detection finds `drifts` from now on.
    pub fn drift(&self, drifts: Vec<ResourceDrift>) {
        self.state().drifts = drifts;
    }

    /// Lists `resources` in `ListStackResources` answers in place of moto's placeholders:
    /// each one moto's answer does not name already.
    pub fn list_stack_resources(&self, resources: Vec<StackResource>) {
        self.state().stack_resources = resources;
    }

    /// Gives `stack`, in `DescribeStacks` answers where moto gives it no outputs, the
    /// outputs of `template` resolved against the stack's resources.
    pub fn give_outputs(&self, stack: &str, template: &Value) {
        let outputs = template["Outputs"].clone();
        self.state().outputs.insert(stack.to_owned(), outputs);
    }
}

async fn handle(
    state: Arc<Mutex<State>>,
    upstream: SocketAddr,
    request: Request<Incoming>,
) -> Result<Answer, hyper::Error> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    if let Some(function) = invoked_function(parts.uri.path()) {
        return Ok(invoke(&state, function, &parts, &body).await);
    }
    let action = form_value(&body, "Action").unwrap_or_default();
    let stack = form_value(&body, "StackName").unwrap_or_default();
    if let Some(answer) = termination_protection(&state, &action, &stack, &body) {
        return Ok(answer);
    }
    if let Some(answer) = drift_detection(&state, &action) {
        return Ok(answer);
    }
    let (leave_to_moto, resources, outputs, protected) = {
        let state = state.lock().unwrap();
        let outputs = state.outputs.get(&stack).cloned();
        let protected = state.protected.clone();
        (
            state.leave_to_moto,
            state.stack_resources.clone(),
            outputs,
            protected,
        )
    };
    if parts.headers.contains_key("smithy-protocol") && !leave_to_moto {
        return Ok(cloudwatch(&state, parts.uri.path()));
    }
    let request = Request::from_parts(parts.clone(), Full::new(body));
    let answer = forward(upstream, request).await;
    Ok(match (action.as_str(), outputs) {
        ("ListStackResources", _) if !leave_to_moto => {
            rewritten(answer, |xml| complete_listing(xml, &resources)).await
        }
        ("DescribeStacks", Some(outputs)) => {
            let listing = forward(upstream, list_request(&parts, &stack)).await;
            let listing = complete_listing(&text(listing.into_body()).await, &resources);
            rewritten(answer, |xml| {
                let xml = with_outputs(xml, &stack, &outputs, &listing);
                with_protection(&xml, &protected)
            })
            .await
        }
        ("DescribeStacks", None) => rewritten(answer, |xml| with_protection(xml, &protected)).await,
        _ => answer,
    })
}

/// Answers `UpdateTerminationProtection` as CloudFormation does, and refuses `DeleteStack`
/// of a protected stack; `None` for every other request.
fn termination_protection(
    state: &Mutex<State>,
    action: &str,
    stack: &str,
    body: &[u8],
) -> Option<Answer> {
    let xml = ("content-type", "text/xml");
    match action {
        "UpdateTerminationProtection" => {
            let enable = form_value(body, "EnableTerminationProtection").as_deref() == Some("true");
            let mut shared = state.lock().unwrap();
            match enable {
                true => shared.protected.insert(stack.to_owned()),
                false => shared.protected.remove(stack),
            };
            let body = format!(
                "<UpdateTerminationProtectionResponse \
                 xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">\
                 <UpdateTerminationProtectionResult><StackId>{}</StackId>\
                 </UpdateTerminationProtectionResult><ResponseMetadata><RequestId>\
                 stand-in</RequestId></ResponseMetadata></UpdateTerminationProtectionResponse>",
                escape(stack)
            );
            Some(answer(StatusCode::OK, body, &[xml]))
        }
        "DeleteStack" if state.lock().unwrap().protected.contains(stack) => {
            let body = format!(
                "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">\
                 <Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack [{}] \
                 cannot be deleted while TerminationProtection is enabled</Message></Error>\
                 <RequestId>stand-in</RequestId></ErrorResponse>",
                escape(stack)
            );
            Some(answer(StatusCode::BAD_REQUEST, body, &[xml]))
        }
        _ => None,
    }
}

/// Answers CloudFormation's drift detection as it answers once detection is complete;
/// `None` for every other request.
fn drift_detection(state: &Mutex<State>, action: &str) -> Option<Answer> {
    let drifts = state.lock().unwrap().drifts.clone();
    let result = match action {
        "DetectStackDrift" => {
            "<StackDriftDetectionId>stand-in-detection</StackDriftDetectionId>".to_owned()
        }
        "DescribeStackDriftDetectionStatus" => {
            let drifted = if drifts.is_empty() {
                "IN_SYNC"
            } else {
                "DRIFTED"
            };
            format!(
                "<StackId>stand-in</StackId><StackDriftDetectionId>stand-in-detection\
                 </StackDriftDetectionId><StackDriftStatus>{drifted}</StackDriftStatus>\
                 <DetectionStatus>DETECTION_COMPLETE</DetectionStatus>\
                 <DriftedStackResourceCount>{}</DriftedStackResourceCount>\
                 <Timestamp>2026-01-01T00:00:00Z</Timestamp>",
                drifts.len()
            )
        }
        "DescribeStackResourceDrifts" => {
            let members: String = drifts
                .iter()
                .map(|d| {
                    format!(
                        "<member><StackId>stand-in</StackId><LogicalResourceId>{}\
                         </LogicalResourceId><ResourceType>{}</ResourceType>\
                         <StackResourceDriftStatus>{}</StackResourceDriftStatus>\
                         <PropertyDifferences><member><PropertyPath>{}</PropertyPath>\
                         <ExpectedValue>{}</ExpectedValue><ActualValue>{}</ActualValue>\
                         <DifferenceType>NOT_EQUAL</DifferenceType></member>\
                         </PropertyDifferences><Timestamp>2026-01-01T00:00:00Z</Timestamp>\
                         </member>",
                        escape(&d.logical_id),
                        escape(&d.kind),
                        escape(&d.status),
                        escape(&d.property),
                        escape(&d.expected),
                        escape(&d.actual)
                    )
                })
                .collect();
            format!("<StackResourceDrifts>{members}</StackResourceDrifts>")
        }
        _ => return None,
    };
    let body = format!(
        "<{action}Response xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">\
         <{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>stand-in\
         </RequestId></ResponseMetadata></{action}Response>"
    );
    Some(answer(
        StatusCode::OK,
        body,
        &[("content-type", "text/xml")],
    ))
}

/// `xml`, a `DescribeStacks` answer, with `EnableTerminationProtection` for each stack it
/// describes as CloudFormation gives it: on when the stand-in turned it on, or moto kept
/// it from the stack's creation.
fn with_protection(xml: &str, protected: &std::collections::BTreeSet<String>) -> String {
    const TAG: (&str, &str) = (
        "<EnableTerminationProtection>",
        "</EnableTerminationProtection>",
    );
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(start) = rest.find("<StackName>") {
        let Some(length) = rest[start..].find("</StackName>") else {
            break;
        };
        let end = start + length + "</StackName>".len();
        let name = &rest[start + "<StackName>".len()..start + length];
        let ours = protected.iter().any(|stack| escape(stack) == name);
        out.push_str(&rest[..end]);
        rest = &rest[end..];
        // moto's own element for this stack, if any, lies before the next stack's name.
        let member_end = rest.find("<StackName>").unwrap_or(rest.len());
        let moto_s = rest[..member_end].find(TAG.0).and_then(|at| {
            let close = rest[at..member_end].find(TAG.1)?;
            Some((
                at,
                at + close + TAG.1.len(),
                &rest[at + TAG.0.len()..at + close],
            ))
        });
        match moto_s {
            Some((at, after, value)) => {
                let on = ours || value == "true";
                out.push_str(&rest[..at]);
                out.push_str(&format!("{}{on}{}", TAG.0, TAG.1));
                rest = &rest[after..];
            }
            None => out.push_str(&format!("{}{ours}{}", TAG.0, TAG.1)),
        }
    }
    out.push_str(rest);
    out
}

/// Records an `Invoke` and answers it: with the scripted failure; with what the function
/// returned, for a synchronous invoke of a function run here ([`StandIn::run_function`]);
/// else as Lambda answers an asynchronous one, 202.
async fn invoke(
    state: &Mutex<State>,
    function: String,
    parts: &request::Parts,
    body: &[u8],
) -> Answer {
    let invocation_type = parts.headers.get("x-amz-invocation-type");
    let invocation_type = invocation_type.and_then(|v| v.to_str().ok());
    let invocation_type = invocation_type.unwrap_or("RequestResponse").to_owned();
    let payload = serde_json::from_slice(body).unwrap_or(Value::Null);
    let (accepted, runs_on) = {
        let mut shared = state.lock().unwrap();
        let accepted = shared.script.pop_front().unwrap_or(true);
        let runs_on = shared.functions.get(&function).cloned();
        shared.invocations.push(Invocation {
            function,
            invocation_type: invocation_type.clone(),
            payload: payload.clone(),
            accepted,
        });
        (accepted, runs_on)
    };
    let json = ("content-type", "application/json");
    if !accepted {
        let failure = r#"{"Type":"Service","message":"scripted failure"}"#;
        let error_type = ("x-amzn-errortype", "ServiceException");
        let status = StatusCode::INTERNAL_SERVER_ERROR;
        return answer(status, failure, &[json, error_type]);
    }
    match runs_on {
        Some(api) if invocation_type == "RequestResponse" => ran(api.invoke(payload).await),
        _ => answer(StatusCode::ACCEPTED, "", &[json]),
    }
}

/// A synchronous invoke's answer, as Lambda gives it: 200 and the function's response,
/// or 200 and its error as the payload, flagged `X-Amz-Function-Error: Unhandled`.
fn ran(result: Result<Value, InvocationError>) -> Answer {
    let json = ("content-type", "application/json");
    match result {
        Ok(response) => answer(StatusCode::OK, response.to_string(), &[json]),
        Err(error) => {
            let payload = serde_json::json!({
                "errorType": "Unhandled",
                "errorMessage": error.to_string(),
            });
            let unhandled = ("x-amz-function-error", "Unhandled");
            answer(StatusCode::OK, payload.to_string(), &[json, unhandled])
        }
    }
}

/// A CloudWatch call (`/service/.../operation/NAME`), answered in its CBOR protocol from
/// what the test set.
fn cloudwatch(state: &Mutex<State>, path: &str) -> Answer {
    let operation = path.rsplit('/').next().unwrap_or_default().to_owned();
    let mut shared = state.lock().unwrap();
    shared.cloudwatch_calls.push(operation.clone());
    let body = match operation.as_str() {
        "DescribeAlarms" => describe_alarms(&shared.alarms),
        "GetMetricData" => get_metric_data(&shared.metrics),
        _ => {
            let why = format!("the stand-in does not answer {operation}");
            let text = ("content-type", "text/plain");
            return answer(StatusCode::BAD_REQUEST, why, &[text]);
        }
    };
    let headers = [
        ("content-type", "application/cbor"),
        ("smithy-protocol", "rpc-v2-cbor"),
    ];
    answer(StatusCode::OK, body, &headers)
}

/// A parameter of a (form-encoded, query protocol) request body.
fn form_value(body: &[u8], name: &str) -> Option<String> {
    String::from_utf8_lossy(body).split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        let value = percent_decode_str(value).decode_utf8_lossy();
        (key == name).then(|| value.into_owned())
    })
}

/// The text of an answer's body.
async fn text(body: Full<Bytes>) -> String {
    let Ok(body) = body.collect().await.map(|body| body.to_bytes());
    String::from_utf8_lossy(&body).into_owned()
}

/// moto's successful answer with its XML rewritten by `rewrite`; any other as it came.
async fn rewritten(answer: Answer, rewrite: impl FnOnce(&str) -> String) -> Answer {
    if answer.status() != StatusCode::OK {
        return answer;
    }
    let (mut parts, body) = answer.into_parts();
    // The body changes length: hyper sets the new one.
    parts.headers.remove(CONTENT_LENGTH);
    let xml = rewrite(&text(body).await);
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
        let named = logical_id_element(&resource.logical_id);
        if !listed.contains(&named) {
            let (physical_id, kind) = (escape(&resource.physical_id), escape(&resource.kind));
            listed.push_str(&format!(
                "<member>{named}<PhysicalResourceId>{physical_id}</PhysicalResourceId>\
                 <ResourceType>{kind}</ResourceType><ResourceStatus>CREATE_COMPLETE</ResourceStatus></member>"
            ));
        }
    }
    format!("{}{listed}{}", &xml[..start], &xml[end..])
}

/// `ListStackResources` for `stack`, sent as the request of `parts` was (with its
/// credentials, and so its region).
fn list_request(parts: &request::Parts, stack: &str) -> Request<Full<Bytes>> {
    let mut parts = parts.clone();
    parts.headers.remove(CONTENT_LENGTH);
    let stack = utf8_percent_encode(stack, NON_ALPHANUMERIC);
    let body = format!("Action=ListStackResources&Version=2010-05-15&StackName={stack}");
    Request::from_parts(parts, Full::new(Bytes::from(body)))
}

/// A `DescribeStacks` XML answer in which `stack`, described without outputs, has those of
/// a template, `outputs`, as AWS gives them once deployed, resolved against the stack's
/// resources (`listing`, a `ListStackResources` XML answer) by [`output_value`]; an output
/// the stand-in cannot work out is left out. Pure.
fn with_outputs(xml: &str, stack: &str, outputs: &Value, listing: &str) -> String {
    let name = format!("<StackName>{}</StackName>", escape(stack));
    let (Some(start), false) = (xml.find(&name), xml.contains("<Outputs")) else {
        return xml.to_owned();
    };
    let at = start + name.len();
    // arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/ID
    let stack_id = element(xml, "StackId").unwrap_or_default();
    let scope: Vec<&str> = stack_id.split(':').collect();
    let mut members = String::new();
    for (key, output) in outputs.as_object().into_iter().flatten() {
        let Some(value) = output_value(&output["Value"], listing, &scope) else {
            continue;
        };
        let (key, value) = (escape(key), escape(&value));
        let description = escape(output["Description"].as_str().unwrap_or_default());
        members.push_str(&format!(
            "<member><OutputKey>{key}</OutputKey><OutputValue>{value}</OutputValue>\
             <Description>{description}</Description></member>"
        ));
    }
    format!("{}<Outputs>{members}</Outputs>{}", &xml[..at], &xml[at..])
}

/// An output's value: a `Ref` is the physical ID `listing` gives the resource, a
/// `Fn::GetAtt` of its `Arn` its ARN in the region and account of `scope` (a stack ID's
/// parts).
fn output_value(value: &Value, listing: &str, scope: &[&str]) -> Option<String> {
    let get_att = &value["Fn::GetAtt"];
    let (logical_id, attribute) = match value["Ref"].as_str() {
        Some(logical_id) => (logical_id, "Ref"),
        None => (get_att[0].as_str()?, get_att[1].as_str()?),
    };
    let listed = logical_id_element(logical_id);
    let member = listing.split("</member>").find(|m| m.contains(&listed))?;
    let name = element(member, "PhysicalResourceId")?;
    let (service, path) = match (attribute, element(member, "ResourceType")?) {
        ("Ref", _) => return Some(name.to_owned()),
        // A queue's physical ID is its URL, which ends in its name.
        ("Arn", "AWS::SQS::Queue") => ("sqs", name.rsplit('/').next()?.to_owned()),
        ("Arn", "AWS::Lambda::Function") => ("lambda", format!("function:{name}")),
        ("Arn", "AWS::DynamoDB::Table") => ("dynamodb", format!("table/{name}")),
        ("Arn", "AWS::Events::Rule") => ("events", format!("rule/{name}")),
        _ => return None,
    };
    let (region, account) = (scope.get(3)?, scope.get(4)?);
    Some(format!("arn:aws:{service}:{region}:{account}:{path}"))
}

/// How a listing names a resource.
fn logical_id_element(logical_id: &str) -> String {
    let logical_id = escape(logical_id);
    format!("<LogicalResourceId>{logical_id}</LogicalResourceId>")
}

/// The text of the first `<tag>` element in `xml`.
pub(crate) fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let length = xml[start..].find(&format!("</{tag}>"))?;
    Some(&xml[start..start + length])
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
    Some(percent_decode_str(name).decode_utf8_lossy().into_owned())
}

fn describe_alarms(alarms: &BTreeMap<String, String>) -> Vec<u8> {
    let mut encoder = Encoder::new(Vec::new());
    encoder.map(1).str("MetricAlarms").array(alarms.len());
    for (name, state) in alarms {
        encoder.map(2).str("AlarmName").str(name);
        encoder.str("StateValue").str(state);
    }
    encoder.into_writer()
}

fn get_metric_data(metrics: &BTreeMap<String, Vec<f64>>) -> Vec<u8> {
    let mut encoder = Encoder::new(Vec::new());
    encoder.map(1).str("MetricDataResults").array(metrics.len());
    for (id, values) in metrics {
        encoder.map(3).str("Id").str(id);
        encoder.str("StatusCode").str("Complete");
        encoder.str("Values").array(values.len());
        for value in values {
            encoder.double(*value);
        }
    }
    encoder.into_writer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_stacks_shows_the_protection_the_stand_in_keeps_over_motos() {
        let xml = "<Stacks><member><StackName>a</StackName><EnableTerminationProtection>false\
                   </EnableTerminationProtection></member><member><StackName>b</StackName>\
                   </member></Stacks>";
        let protected = ["a".to_owned()].into();
        let shown = with_protection(xml, &protected);
        assert_eq!(
            shown,
            "<Stacks><member><StackName>a</StackName><EnableTerminationProtection>true\
             </EnableTerminationProtection></member><member><StackName>b</StackName>\
             <EnableTerminationProtection>false</EnableTerminationProtection></member></Stacks>"
        );
    }

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
        let body = b"Action=ListStackResources&Version=2010-05-15&StackName=s";
        assert_eq!(
            form_value(body, "Action").as_deref(),
            Some("ListStackResources")
        );
        assert_ne!(
            form_value(b"Action=DescribeStacks&StackName=s", "Action").as_deref(),
            Some("ListStackResources")
        );
    }

    #[test]
    fn a_stack_described_without_outputs_gets_the_templates_resolved() {
        let stack_id = "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1";
        let moto = format!(
            "<DescribeStacksResponse><DescribeStacksResult><Stacks><member>\
             <StackId>{stack_id}</StackId><StackName>s</StackName><Tags/></member>\
             </Stacks></DescribeStacksResult></DescribeStacksResponse>"
        );
        let outputs = serde_json::json!({
            "QueueUrl": {"Description": "URL & all", "Value": {"Ref": "Queue"}},
            "QueueArn": {"Value": {"Fn::GetAtt": ["Queue", "Arn"]}},
            "Missing": {"Value": {"Ref": "NotListed"}},
        });
        let listing = "<member><LogicalResourceId>Queue</LogicalResourceId>\
                       <PhysicalResourceId>https://sqs.us-east-1.amazonaws.com/123456789012/q</PhysicalResourceId>\
                       <ResourceType>AWS::SQS::Queue</ResourceType></member>";
        let described = with_outputs(&moto, "s", &outputs, listing);
        assert_eq!(
            described,
            moto.replace(
                "<StackName>s</StackName>",
                "<StackName>s</StackName><Outputs>\
                 <member><OutputKey>QueueArn</OutputKey><OutputValue>arn:aws:sqs:us-east-1:123456789012:q</OutputValue><Description></Description></member>\
                 <member><OutputKey>QueueUrl</OutputKey><OutputValue>https://sqs.us-east-1.amazonaws.com/123456789012/q</OutputValue><Description>URL &amp; all</Description></member>\
                 </Outputs>"
            )
        );
        assert_eq!(with_outputs(&described, "s", &outputs, listing), described);
        assert_eq!(with_outputs(&moto, "other", &outputs, listing), moto);
    }
}

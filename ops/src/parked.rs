//! Events parked in the two queues, read from their messages.
//!
//! - The function's on-failure destination holds Lambda's envelope: `requestContext`
//!   (the function, the condition, the attempts), `requestPayload` (the original event)
//!   and `responsePayload` (the function's last error).
//! - The rule's dead-letter queue holds the event itself; EventBridge says why in the
//!   message attributes (`ERROR_CODE`, `ERROR_MESSAGE`).

use std::collections::{HashMap, HashSet};

use aws_sdk_sqs::operation::change_message_visibility_batch::ChangeMessageVisibilityBatchOutput;
use aws_sdk_sqs::types::{
    BatchResultErrorEntry, ChangeMessageVisibilityBatchRequestEntry, Message,
    MessageAttributeValue, QueueAttributeName,
};
use dispatch::event::{classify, Classified};
use dispatch_aws::AwsError;
use serde::Serialize;
use serde_json::Value;

use crate::error::{aws, Result};
use crate::stack::Names;

/// Which queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Queue {
    /// The function's on-failure destination: events that failed every Lambda retry.
    Failures,
    /// The rule's dead-letter queue: events EventBridge could not deliver.
    Dlq,
}

impl Queue {
    pub const ALL: [Queue; 2] = [Queue::Failures, Queue::Dlq];

    pub fn describe(self) -> &'static str {
        match self {
            Queue::Failures => "the function's failure queue",
            Queue::Dlq => "the rule's dead-letter queue",
        }
    }

    /// The queue's URL, from the stack's outputs.
    pub fn url(self, names: &Names) -> &str {
        match self {
            Queue::Failures => &names.failure_queue_url,
            Queue::Dlq => &names.dead_letter_queue_url,
        }
    }

    /// The `replay` option that reads this queue (none for the default one).
    pub fn option(self) -> &'static str {
        match self {
            Queue::Failures => "",
            Queue::Dlq => " --from dlq",
        }
    }
}

/// One parked event.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Parked {
    pub queue: Queue,
    pub message_id: String,
    /// The dispatch the event names, if it names one the callback can read.
    pub dispatch_id: Option<String>,
    pub task_arn: Option<String>,
    /// The function the event was for (the failure queue says; the DLQ's is the rule's
    /// target, the callback).
    pub function: Option<String>,
    /// Why it was parked, in AWS's words.
    pub error: String,
    /// How often Lambda tried it, when the envelope says.
    pub attempts: Option<u64>,
    /// The original event; `None` when the message holds none that can be replayed.
    pub event: Option<Value>,
    #[serde(skip)]
    pub receipt_handle: String,
}

/// Reads one message of `queue`. Pure: unit tested on AWS-shaped messages.
pub fn parse(queue: Queue, message: &Message) -> Parked {
    let json: Option<Value> = serde_json::from_str(message.body().unwrap_or_default()).ok();
    let attributes = message.message_attributes();
    let left = |why: &str| (None, None, format!("{why}: left in the queue"), None);
    let (event, function, error, attempts) = match (queue, json) {
        (Queue::Failures, Some(envelope)) if envelope.get("requestContext").is_some() => {
            let context = &envelope["requestContext"];
            let response = &envelope["responsePayload"];
            let error = reason(
                response["errorType"].as_str(),
                response["errorMessage"].as_str(),
                context["condition"].as_str().unwrap_or("unknown"),
            );
            (
                envelope.get("requestPayload").cloned(),
                context["functionArn"].as_str().map(str::to_owned),
                error,
                context["approximateInvokeCount"].as_u64(),
            )
        }
        (Queue::Failures, _) => left("not a Lambda failure record (no requestContext)"),
        (Queue::Dlq, Some(event)) => {
            let error = reason(
                attribute(attributes, "ERROR_CODE"),
                attribute(attributes, "ERROR_MESSAGE"),
                "undelivered by EventBridge",
            );
            (Some(event), None, error, None)
        }
        (Queue::Dlq, None) => left("the message is not JSON"),
    };
    let (dispatch_id, task_arn) = event.as_ref().map(identify).unwrap_or_default();
    Parked {
        queue,
        message_id: message.message_id().unwrap_or_default().to_owned(),
        dispatch_id,
        task_arn,
        function,
        error,
        attempts,
        event,
        receipt_handle: message.receipt_handle().unwrap_or_default().to_owned(),
    }
}

/// `code: text`, or either alone; `neither` when there is neither.
fn reason(code: Option<&str>, text: Option<&str>, neither: &str) -> String {
    match (code, text) {
        (Some(code), Some(text)) => format!("{code}: {text}"),
        (Some(one), None) | (None, Some(one)) => one.to_owned(),
        (None, None) => neither.to_owned(),
    }
}

fn attribute<'a>(
    attributes: Option<&'a HashMap<String, MessageAttributeValue>>,
    name: &str,
) -> Option<&'a str> {
    attributes?.get(name)?.string_value()
}

/// The dispatch ID and task ARN an event names, read as the callback reads them.
pub fn identify(event: &Value) -> (Option<String>, Option<String>) {
    let task_arn = event["detail"]["taskArn"].as_str().map(str::to_owned);
    let dispatch_id = match classify(event.clone()) {
        Ok(Classified::Stopped(task)) => dispatch::dispatch_id::from_event(&task.detail)
            .ok()
            .flatten()
            .map(|(id, _)| id.as_str().to_owned()),
        _ => None,
    };
    (dispatch_id, task_arn)
}

/// How long messages `replay` received stay hidden while it invokes them: longer than a
/// batch of ten invokes can take (each bounded by the SDK's 8 s operation timeout).
pub const REPLAY_VISIBILITY_SECONDS: i32 = 120;
/// The visibility timeout `diagnose` receives with: none. A message it looks at stays
/// visible to every other reader (a `replay` at the same moment included), and there is
/// nothing to make visible again afterwards.
pub const PEEK_VISIBILITY_SECONDS: i32 = 0;
/// The most `ReceiveMessage` calls one look at a queue makes. SQS has no true peek: each
/// receive counts towards a message's `ApproximateReceiveCount`, so a look is bounded.
pub const PEEK_POLLS: usize = 100;
/// SQS samples its servers on a short poll: a poll with nothing new is tried this often
/// before the queue counts as read.
pub const IDLE_POLLS: usize = 3;
/// The most messages one `ReceiveMessage` call gives, and the most entries one
/// `ChangeMessageVisibilityBatch` call takes.
const BATCH: usize = 10;

/// The messages of one `ReceiveMessage` call (at most [`BATCH`]) that are not in `seen`,
/// which then holds them too; hidden for `visibility` seconds, with their attributes.
pub async fn receive_new(
    client: &aws_sdk_sqs::Client,
    url: &str,
    visibility: i32,
    seen: &mut HashSet<String>,
) -> Result<Vec<Message>> {
    let output = client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(BATCH as i32)
        .visibility_timeout(visibility)
        .message_attribute_names("All")
        .send()
        .await
        .map_err(aws("ReceiveMessage", url))?;
    let batch = output.messages.unwrap_or_default().into_iter();
    Ok(batch
        .filter(|m| seen.insert(m.message_id().unwrap_or_default().to_owned()))
        .collect())
}

/// What one look at a queue saw.
#[derive(Clone, Debug, Default)]
pub struct Peek {
    /// Each distinct message received, in the order first seen.
    pub messages: Vec<Message>,
    /// The messages the queue counted as waiting when the look began.
    pub waiting: u64,
    /// The messages another reader held then (received, not yet deleted or made visible
    /// again): a look cannot see them.
    pub in_flight: u64,
}

impl Peek {
    /// Whether fewer messages were seen than the queue counted as waiting.
    pub fn partial(&self) -> bool {
        u64::try_from(self.messages.len()).unwrap_or(u64::MAX) < self.waiting
    }
}

/// Looks at up to `max` of the messages waiting in a queue without hiding or holding any:
/// each receive asks for a visibility timeout of 0. The polls stop once as many distinct
/// messages were seen as the queue counted (so each is received as few times as
/// possible), after [`IDLE_POLLS`] polls bring nothing new, or after [`PEEK_POLLS`]. There
/// is always one poll, since the queue's count is approximate.
pub async fn peek(client: &aws_sdk_sqs::Client, url: &str, max: usize) -> Result<Peek> {
    let (waiting, in_flight) = depth(client, url).await?;
    let wanted = usize::try_from(waiting).unwrap_or(usize::MAX).min(max);
    let mut messages: Vec<Message> = Vec::new();
    let mut seen = HashSet::new();
    let mut idle = 0;
    for _ in 0..PEEK_POLLS {
        // Without a visibility timeout the same messages come back poll after poll: one
        // seen again is not news.
        let news = receive_new(client, url, PEEK_VISIBILITY_SECONDS, &mut seen).await?;
        idle = if news.is_empty() { idle + 1 } else { 0 };
        messages.extend(news);
        if messages.len() >= wanted || idle == IDLE_POLLS {
            break;
        }
    }
    messages.truncate(max);
    Ok(Peek {
        messages,
        waiting,
        in_flight,
    })
}

/// Messages SQS did not make visible again, and why, in its words.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Refusal {
    messages: usize,
    code: String,
    message: String,
}

/// Makes messages visible again at once, ten to a call. Every handle is tried, and any
/// that SQS did not release is an error that says how many and why: a call that failed
/// outright, or entries it refused within a call that succeeded (a receipt handle that
/// is no longer the message's latest, say).
pub async fn release(client: &aws_sdk_sqs::Client, url: &str, handles: &[String]) -> Result<()> {
    let mut refused = Vec::new();
    for chunk in handles.chunks(BATCH) {
        match release_batch(client, url, chunk).await {
            Ok(output) => refused.extend(refusals(output.failed())),
            Err(err) => refused.push(Refusal {
                messages: chunk.len(),
                code: err.code,
                message: err.message,
            }),
        }
    }
    unreleased(url, handles.len(), &refused).map_or(Ok(()), |err| Err(err.into()))
}

/// The call that makes messages visible again.
const CHANGE_VISIBILITY: &str = "ChangeMessageVisibilityBatch";

/// One `ChangeMessageVisibilityBatch` call that makes `handles` visible at once.
async fn release_batch(
    client: &aws_sdk_sqs::Client,
    url: &str,
    handles: &[String],
) -> Result<ChangeMessageVisibilityBatchOutput, AwsError> {
    let entries = handles.iter().enumerate().map(|(i, handle)| {
        let entry = ChangeMessageVisibilityBatchRequestEntry::builder().id(i.to_string());
        entry.receipt_handle(handle).visibility_timeout(0).build()
    });
    let entries: Vec<_> = entries
        .collect::<Result<_, _>>()
        .map_err(|err| AwsError::unusable(CHANGE_VISIBILITY, url, &err.to_string()))?;
    client
        .change_message_visibility_batch()
        .queue_url(url)
        .set_entries(Some(entries))
        .send()
        .await
        .map_err(aws(CHANGE_VISIBILITY, url))
}

/// The entries a batch call refused, one refusal each. Pure.
fn refusals(failed: &[BatchResultErrorEntry]) -> Vec<Refusal> {
    failed
        .iter()
        .map(|entry| Refusal {
            messages: 1,
            code: entry.code().to_owned(),
            message: entry.message().unwrap_or("no message").to_owned(),
        })
        .collect()
}

/// The error that says how many of `total` messages were not made visible again, and
/// why (each distinct reason once, with its count); `None` when every one was. Pure.
fn unreleased(url: &str, total: usize, refusals: &[Refusal]) -> Option<AwsError> {
    let first = refusals.first()?;
    let mut reasons: Vec<(String, usize)> = Vec::new();
    for refusal in refusals {
        let reason = format!("{}: {}", refusal.code, refusal.message);
        match reasons.iter_mut().find(|(known, _)| *known == reason) {
            Some((_, count)) => *count += refusal.messages,
            None => reasons.push((reason, refusal.messages)),
        }
    }
    let count: usize = refusals.iter().map(|r| r.messages).sum();
    let reasons = reasons.iter().map(|(reason, n)| format!("{reason} ({n})"));
    let reasons = reasons.collect::<Vec<_>>().join("; ");
    let message = format!("{count} of {total} message(s) not made visible again: {reasons}");
    Some(AwsError {
        code: first.code.clone(),
        ..AwsError::unusable(CHANGE_VISIBILITY, url, &message)
    })
}

/// Deletes one message, once its event was handed back to the function.
pub async fn delete(client: &aws_sdk_sqs::Client, url: &str, handle: &str) -> Result<()> {
    client
        .delete_message()
        .queue_url(url)
        .receipt_handle(handle)
        .send()
        .await
        .map_err(aws("DeleteMessage", url))?;
    Ok(())
}

/// Messages waiting in a queue, and those received and not yet deleted. An answer
/// without either count is unusable: a count taken for 0 would read as an empty queue.
pub async fn depth(client: &aws_sdk_sqs::Client, url: &str) -> Result<(u64, u64)> {
    use QueueAttributeName::ApproximateNumberOfMessages as Waiting;
    use QueueAttributeName::ApproximateNumberOfMessagesNotVisible as InFlight;
    let output = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(Waiting)
        .attribute_names(InFlight)
        .send()
        .await
        .map_err(aws("GetQueueAttributes", url))?;
    let count = |name: QueueAttributeName| -> Result<u64> {
        output
            .attributes()
            .and_then(|attributes| attributes.get(&name))
            .and_then(|value| value.parse().ok())
            .ok_or_else(|| {
                let why = format!("no {} in the answer", name.as_str());
                AwsError::unusable("GetQueueAttributes", url, &why).into()
            })
    };
    Ok((count(Waiting)?, count(InFlight)?))
}

/// The queue's name, the last part of its URL.
pub fn queue_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stopped_event(dispatch_id: &str) -> Value {
        json!({
            "version": "0", "id": "e-1", "detail-type": "ECS Task State Change",
            "source": "aws.ecs", "account": "1", "time": "2026-01-15T19:39:31Z",
            "region": "us-east-1", "resources": [],
            "detail": {
                "taskArn": "arn:aws:ecs:us-east-1:1:task/outpost-dev/t1",
                "lastStatus": "STOPPED", "stopCode": "EssentialContainerExited",
                "group": format!("dispatch:{dispatch_id}"),
                "containers": [{"name": "worker", "exitCode": 1}]
            }
        })
    }

    #[test]
    fn a_failure_record_gives_its_event_function_and_error() {
        let envelope = json!({
            "version": "1.0", "timestamp": "2026-01-15T19:40:00.000Z",
            "requestContext": {
                "requestId": "r-1",
                "functionArn": "arn:aws:lambda:us-east-1:1:function:outpost-dispatch-callback:$LATEST",
                "condition": "RetriesExhausted", "approximateInvokeCount": 3
            },
            "requestPayload": stopped_event("d-7"),
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorType": "DispatchNotFound", "errorMessage": "no record d-7"}
        });
        let message = Message::builder()
            .message_id("m-1")
            .receipt_handle("h-1")
            .body(envelope.to_string())
            .build();
        let parked = parse(Queue::Failures, &message);
        assert_eq!(parked.dispatch_id.as_deref(), Some("d-7"));
        assert_eq!(parked.error, "DispatchNotFound: no record d-7");
        assert_eq!(parked.attempts, Some(3));
        assert!(parked
            .function
            .unwrap()
            .ends_with("function:outpost-dispatch-callback:$LATEST"));
        assert_eq!(parked.event, Some(stopped_event("d-7")));
    }

    #[test]
    fn a_dead_letter_is_the_event_with_eventbridges_reason() {
        let message = Message::builder()
            .message_id("m-2")
            .receipt_handle("h-2")
            .body(stopped_event("d-8").to_string())
            .message_attributes(
                "ERROR_CODE",
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value("ResourceNotFoundException")
                    .build()
                    .unwrap(),
            )
            .build();
        let parked = parse(Queue::Dlq, &message);
        assert_eq!(parked.dispatch_id.as_deref(), Some("d-8"));
        assert_eq!(parked.error, "ResourceNotFoundException");
        assert!(parked.event.is_some());
    }

    #[test]
    fn a_message_that_holds_no_event_is_never_replayable() {
        for (queue, body) in [(Queue::Failures, "{\"x\":1}"), (Queue::Dlq, "not json")] {
            let message = Message::builder().message_id("m").body(body).build();
            let parked = parse(queue, &message);
            assert!(parked.event.is_none(), "{body}");
            assert!(
                parked.error.contains("left in the queue"),
                "{}",
                parked.error
            );
        }
    }

    #[test]
    fn entries_sqs_refused_are_an_error_that_counts_them_and_says_why() {
        let failed: Vec<BatchResultErrorEntry> = ["3", "7"]
            .into_iter()
            .map(|id| {
                BatchResultErrorEntry::builder()
                    .id(id)
                    .code("ReceiptHandleIsInvalid")
                    .message("The input receipt handle is invalid.")
                    .sender_fault(true)
                    .build()
                    .unwrap()
            })
            .collect();
        let mut refused = refusals(&failed);
        refused.push(Refusal {
            messages: 10,
            code: "AccessDenied".into(),
            message: "not authorized".into(),
        });
        let err = unreleased("https://sqs/q", 30, &refused).unwrap();
        assert_eq!(err.code, "ReceiptHandleIsInvalid");
        assert_eq!(
            err.to_string(),
            "ChangeMessageVisibilityBatch on https://sqs/q failed: ReceiptHandleIsInvalid: \
             12 of 30 message(s) not made visible again: ReceiptHandleIsInvalid: The input \
             receipt handle is invalid. (2); AccessDenied: not authorized (10)"
        );
        assert!(unreleased("https://sqs/q", 30, &[]).is_none());
    }
}

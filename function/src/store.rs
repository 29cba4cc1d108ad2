//! The dispatch table, behind the two calls the handler makes.
//!
//! The handler depends on [`DispatchStore`], so unit tests can hand it an in-memory
//! fake while integration tests hand it [`DynamoStore`] pointed at a real DynamoDB API.

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use contract::table::attr;

use crate::config::Config;
use crate::status::DispatchStatus;

mod error;
#[cfg(test)]
pub mod memory;

pub use error::{Attempts, Call, StoreError};

/// Everything written when a dispatch is settled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settlement {
    pub dispatch_id: String,
    /// The task that stopped. `None` only for a settle by hand of a dispatch that names no
    /// task: then the record must name none either.
    pub task_arn: Option<String>,
    pub status: DispatchStatus,
    pub ended_at: String,
    pub exit_code: Option<i64>,
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub ecs_version: Option<u64>,
    pub updated_at: String,
    /// The Lambda request ID of this invocation (or a settle by hand's own ID).
    pub request_id: String,
    /// Who settled the dispatch by hand, and why; `None` for the callback and reconciler.
    pub audit: Option<Audit>,
}

/// The record of a settle by hand (`outpost-ops settle`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audit {
    /// The caller's ARN, as STS reports it.
    pub settled_by: String,
    /// Why, in the operator's words.
    pub reason: String,
}

/// How a settle attempt ended, told apart from the record DynamoDB returned when the
/// condition failed, so no second read is needed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SettleOutcome {
    /// The record was RUNNING (or any other non-terminal status) and is now settled.
    Updated,
    /// There is no record with this dispatch ID. Nothing was created.
    NotFound,
    /// The record is already settled: a duplicate or a late event.
    AlreadyTerminal { status: String },
    /// The record belongs to another task ARN.
    OwnedByOtherTask { owner: String },
    /// The condition failed, yet the record as returned passes it (an attribute of an
    /// unexpected type, say). Reported as an error so a person looks at the record.
    Unexplained { record: String },
}

/// The calls the handler makes on the dispatch table.
pub trait DispatchStore {
    /// The dispatch IDs whose record names `task_arn`, through the `task_arn-index` GSI.
    /// At most two are returned: enough to tell one from many.
    fn dispatch_ids_for_task(
        &self,
        task_arn: &str,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// Settles one dispatch with a single conditional write.
    fn settle(
        &self,
        settlement: &Settlement,
    ) -> impl Future<Output = Result<SettleOutcome, StoreError>> + Send;
}

/// The dispatch table in DynamoDB.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    table_name: String,
    task_arn_index: String,
}

impl DynamoStore {
    /// The table and index `config` names, through `client`.
    pub fn new(client: aws_sdk_dynamodb::Client, config: &Config) -> Self {
        DynamoStore {
            client,
            table_name: config.table_name.clone(),
            task_arn_index: config.task_arn_index.clone(),
        }
    }
}

/// The condition of a settle: the record exists, is not terminal, and has no task ARN or
/// this one. Placeholders: `#id`, `#status`, `#taskArn`, `:taskArn`, `:t0`..`:t3`.
const SETTLE_CONDITION: &str = "attribute_exists(#id) \
     AND NOT (#status IN (:t0, :t1, :t2, :t3)) \
     AND (attribute_not_exists(#taskArn) OR #taskArn = :taskArn)";
/// The same condition for a settlement that names no task: the record must name none.
const SETTLE_CONDITION_NO_TASK: &str = "attribute_exists(#id) \
     AND NOT (#status IN (:t0, :t1, :t2, :t3)) \
     AND attribute_not_exists(#taskArn)";

/// The condition a settlement is written under.
fn settle_condition(settlement: &Settlement) -> &'static str {
    match settlement.task_arn {
        Some(_) => SETTLE_CONDITION,
        None => SETTLE_CONDITION_NO_TASK,
    }
}

impl DispatchStore for DynamoStore {
    async fn dispatch_ids_for_task(&self, task_arn: &str) -> Result<Vec<String>, StoreError> {
        let attempts = Attempts::default();
        let call = self.call("Query", &attempts);
        let output = self
            .client
            .query()
            .table_name(&self.table_name)
            .index_name(&self.task_arn_index)
            .key_condition_expression("#taskArn = :taskArn")
            .expression_attribute_names("#taskArn", attr::TASK_ARN)
            .expression_attribute_values(":taskArn", AttributeValue::S(task_arn.to_owned()))
            .limit(2)
            .customize()
            .interceptor(attempts.clone())
            .send()
            .await
            .map_err(|err| call.failed(err))?;
        Ok(output
            .items()
            .iter()
            .filter_map(|item| item.get(attr::DISPATCH_ID)?.as_s().ok().cloned())
            .collect())
    }

    async fn settle(&self, settlement: &Settlement) -> Result<SettleOutcome, StoreError> {
        let (update_expression, names, values) = settle_expression(settlement);
        let attempts = Attempts::default();
        let call = self.call("UpdateItem", &attempts);
        let result = self
            .client
            .update_item()
            .table_name(&self.table_name)
            .key(
                attr::DISPATCH_ID,
                AttributeValue::S(settlement.dispatch_id.clone()),
            )
            .update_expression(update_expression)
            .condition_expression(settle_condition(settlement))
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .customize()
            .interceptor(attempts.clone())
            .send()
            .await;
        match result {
            Ok(_) => Ok(SettleOutcome::Updated),
            Err(SdkError::ServiceError(service)) => match service.err() {
                UpdateItemError::ConditionalCheckFailedException(failed) => {
                    let old = match failed.item().filter(|item| !item.is_empty()) {
                        Some(item) => Some(item.clone()),
                        // Real DynamoDB returns the record (ALL_OLD). An implementation that
                        // does not must not turn a duplicate into a missing dispatch (retried,
                        // then parked), so the record is read once, strongly consistent,
                        // before concluding that it does not exist.
                        None => self.read(&settlement.dispatch_id).await?,
                    };
                    Ok(explain_conflict(old.as_ref(), settlement))
                }
                _ => Err(call.failed(SdkError::ServiceError(service))),
            },
            Err(err) => Err(call.failed(err)),
        }
    }
}

impl DynamoStore {
    fn call<'a>(&'a self, operation: &'static str, attempts: &'a Attempts) -> Call<'a> {
        Call {
            operation,
            resource: &self.table_name,
            attempts,
        }
    }

    /// The record as it is now (a strongly consistent `GetItem`), if there is one.
    async fn read(&self, dispatch_id: &str) -> Result<Option<Item>, StoreError> {
        let attempts = Attempts::default();
        let call = self.call("GetItem", &attempts);
        let output = self
            .client
            .get_item()
            .table_name(&self.table_name)
            .key(attr::DISPATCH_ID, AttributeValue::S(dispatch_id.to_owned()))
            .consistent_read(true)
            .customize()
            .interceptor(attempts.clone())
            .send()
            .await
            .map_err(|err| call.failed(err))?;
        Ok(output.item.filter(|item| !item.is_empty()))
    }
}

/// A record as DynamoDB returns it.
type Item = HashMap<String, AttributeValue>;

/// Builds the `SET` expression, its names and its values. Optional facts that the event
/// does not carry are left out rather than written as empty.
fn settle_expression(
    s: &Settlement,
) -> (
    String,
    HashMap<String, String>,
    HashMap<String, AttributeValue>,
) {
    let string = |value: &str| AttributeValue::S(value.to_owned());
    let mut fields: Vec<(&str, AttributeValue)> = vec![
        (attr::STATUS, string(s.status.as_str())),
        (attr::ENDED_AT, string(&s.ended_at)),
    ];
    if let Some(task_arn) = &s.task_arn {
        fields.push((attr::TASK_ARN, string(task_arn)));
    }
    fields.extend([
        (attr::UPDATED_AT, string(&s.updated_at)),
        (attr::UPDATE_REQUEST_ID, string(&s.request_id)),
    ]);
    if let Some(code) = s.exit_code {
        fields.push((attr::EXIT_CODE, AttributeValue::N(code.to_string())));
    }
    if let Some(code) = &s.stop_code {
        fields.push((attr::STOP_CODE, string(code)));
    }
    if let Some(reason) = &s.stopped_reason {
        fields.push((attr::STOPPED_REASON, string(reason)));
    }
    if let Some(version) = s.ecs_version {
        fields.push((attr::ECS_VERSION, AttributeValue::N(version.to_string())));
    }
    if let Some(audit) = &s.audit {
        fields.push((attr::SETTLED_BY, string(&audit.settled_by)));
        fields.push((attr::SETTLE_REASON, string(&audit.reason)));
    }

    let mut names = HashMap::from([
        ("#id".to_owned(), attr::DISPATCH_ID.to_owned()),
        ("#status".to_owned(), attr::STATUS.to_owned()),
        ("#taskArn".to_owned(), attr::TASK_ARN.to_owned()),
    ]);
    let mut values: HashMap<String, AttributeValue> = DispatchStatus::TERMINAL
        .iter()
        .enumerate()
        .map(|(i, status)| (format!(":t{i}"), string(status.as_str())))
        .collect();

    // Each attribute is `#name = :name`; `:taskArn` serves the condition as well.
    let mut assignments = Vec::with_capacity(fields.len());
    for (name, value) in fields {
        names.insert(format!("#{name}"), name.to_owned());
        values.insert(format!(":{name}"), value);
        assignments.push(format!("#{name} = :{name}"));
    }
    (format!("SET {}", assignments.join(", ")), names, values)
}

/// Tells why the condition failed from the record as it was (`ALL_OLD`).
pub fn explain_conflict(
    item: Option<&HashMap<String, AttributeValue>>,
    settlement: &Settlement,
) -> SettleOutcome {
    let Some(item) = item.filter(|item| !item.is_empty()) else {
        return SettleOutcome::NotFound;
    };
    let text = |name: &str| item.get(name).and_then(|value| value.as_s().ok());
    if text(attr::UPDATE_REQUEST_ID) == Some(&settlement.request_id) {
        // Our own write landed, but its response was lost and the SDK retried it.
        return SettleOutcome::Updated;
    }
    if let Some(status) = text(attr::STATUS).filter(|status| DispatchStatus::is_terminal(status)) {
        return SettleOutcome::AlreadyTerminal {
            status: status.clone(),
        };
    }
    match text(attr::TASK_ARN) {
        Some(owner) if Some(owner) != settlement.task_arn.as_ref() => {
            SettleOutcome::OwnedByOtherTask {
                owner: owner.clone(),
            }
        }
        _ => SettleOutcome::Unexplained {
            record: format!("{item:?}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(pairs: &[(&str, &str)]) -> HashMap<String, AttributeValue> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), AttributeValue::S(v.to_string())))
            .collect()
    }

    fn settlement() -> Settlement {
        Settlement {
            dispatch_id: "d".into(),
            task_arn: Some("arn".into()),
            status: DispatchStatus::Failed,
            ended_at: "2020-01-01T00:00:00Z".into(),
            exit_code: None,
            stop_code: Some("TaskFailedToStart".into()),
            stopped_reason: None,
            ecs_version: Some(3),
            updated_at: "2020-01-01T00:00:01Z".into(),
            request_id: "req-1".into(),
            audit: None,
        }
    }

    #[test]
    fn explains_each_condition_failure() {
        use SettleOutcome::*;
        let ours = settlement();
        let explain = |pairs: &[(&str, &str)]| explain_conflict(Some(&item(pairs)), &ours);
        let terminal = |status: &str| AlreadyTerminal {
            status: status.into(),
        };
        assert_eq!(explain_conflict(None, &ours), NotFound);
        assert_eq!(
            explain(&[("status", "COMPLETED"), ("taskArn", "arn")]),
            terminal("COMPLETED")
        );
        assert_eq!(
            explain(&[("status", "RUNNING"), ("taskArn", "other")]),
            OwnedByOtherTask {
                owner: "other".into()
            }
        );
        // Terminal wins over a foreign owner: the dispatch is done either way.
        assert_eq!(
            explain(&[("status", "FAILED"), ("taskArn", "other")]),
            terminal("FAILED")
        );
        // Our own earlier attempt of this very write, retried by the SDK.
        let ours_again = [
            ("status", "FAILED"),
            ("taskArn", "arn"),
            ("updateRequestId", "req-1"),
        ];
        assert_eq!(explain(&ours_again), Updated);
        // Another invocation's identical write is a duplicate, not ours.
        let theirs = [
            ("status", "FAILED"),
            ("taskArn", "arn"),
            ("updateRequestId", "req-2"),
        ];
        assert_eq!(explain(&theirs), terminal("FAILED"));
        assert!(matches!(
            explain(&[("status", "RUNNING")]),
            Unexplained { .. }
        ));
    }

    #[test]
    fn expression_sets_only_known_facts() {
        let (expression, names, values) = settle_expression(&settlement());
        assert_eq!(
            expression,
            "SET #status = :status, #endedAt = :endedAt, #taskArn = :taskArn, \
             #updatedAt = :updatedAt, #updateRequestId = :updateRequestId, \
             #stopCode = :stopCode, #ecsVersion = :ecsVersion"
        );
        assert!(!names.contains_key("#exitCode"));
        assert_eq!(values[":ecsVersion"], AttributeValue::N("3".into()));
        assert_eq!(values[":taskArn"], AttributeValue::S("arn".into()));
        assert_eq!(values[":t2"], AttributeValue::S("TIMEOUT".into()));
        // Four terminal statuses and seven assignments.
        assert_eq!(values.len(), 4 + 7);
        assert_eq!(settle_condition(&settlement()), SETTLE_CONDITION);
    }

    #[test]
    fn a_settle_by_hand_records_who_and_why_and_names_no_task_it_does_not_know() {
        let by_hand = Settlement {
            task_arn: None,
            exit_code: None,
            stop_code: None,
            ecs_version: None,
            audit: Some(Audit {
                settled_by: "arn:aws:sts::1:assumed-role/oncall/ana".into(),
                reason: "task lost in a region outage".into(),
            }),
            ..settlement()
        };
        let (expression, names, values) = settle_expression(&by_hand);
        assert_eq!(
            expression,
            "SET #status = :status, #endedAt = :endedAt, #updatedAt = :updatedAt, \
             #updateRequestId = :updateRequestId, #settledBy = :settledBy, \
             #settleReason = :settleReason"
        );
        // The condition still names `#taskArn`: the record must have no task either.
        assert!(names.contains_key("#taskArn") && !values.contains_key(":taskArn"));
        assert_eq!(settle_condition(&by_hand), SETTLE_CONDITION_NO_TASK);
        // A record that names a task is not this settlement's.
        let owned = item(&[("status", "RUNNING"), ("taskArn", "arn")]);
        assert_eq!(
            explain_conflict(Some(&owned), &by_hand),
            SettleOutcome::OwnedByOtherTask {
                owner: "arn".into()
            }
        );
    }
}

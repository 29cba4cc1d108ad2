//! The dispatch table: the calls that settle a dispatch, find it by task, and read it.
//!
//! Code that settles depends on [`DispatchStore`], so unit tests can hand it an in-memory
//! table (`memory`, behind the `memory` feature) while integration tests hand it
//! [`DynamoStore`] pointed at a real DynamoDB API.

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, ReturnValue, ReturnValuesOnConditionCheckFailure,
};
use contract::status::GUESS_STOP_CODE;
use contract::table::attr;
use dispatch::record::DispatchRecord;
use dispatch::settlement::{explain_conflict, SettleOutcome, Settlement};
use dispatch::status::DispatchStatus;

use crate::error::{AwsError, Call};
use crate::item::{self, Item};

/// The calls that settle a dispatch.
pub trait DispatchStore {
    /// The dispatch IDs whose record names `task_arn`, through the `task_arn-index` GSI.
    /// At most two are returned: enough to tell one from many.
    fn dispatch_ids_for_task(
        &self,
        task_arn: &str,
    ) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;

    /// Settles one dispatch with a single conditional write.
    fn settle(
        &self,
        settlement: &Settlement,
    ) -> impl Future<Output = Result<SettleOutcome, AwsError>> + Send;
}

/// The dispatch table in DynamoDB.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    table_name: String,
    task_arn_index: String,
}

impl DynamoStore {
    /// The table `table_name`, with its task index `task_arn_index`, through `client`.
    pub fn new(client: aws_sdk_dynamodb::Client, table_name: &str, task_arn_index: &str) -> Self {
        DynamoStore {
            client,
            table_name: table_name.to_owned(),
            task_arn_index: task_arn_index.to_owned(),
        }
    }

    pub fn table_name(&self) -> &str {
        &self.table_name
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

/// The condition of what ECS reported of the task itself: [`SETTLE_CONDITION`], or a
/// record holding the reconciler's guess of this same task, which the truth replaces.
/// More placeholders: `#stopCode`, `:guess`.
const SETTLE_OR_CORRECT_CONDITION: &str = "attribute_exists(#id) \
     AND (attribute_not_exists(#taskArn) OR #taskArn = :taskArn) \
     AND (NOT (#status IN (:t0, :t1, :t2, :t3)) \
          OR (#stopCode = :guess AND #taskArn = :taskArn))";

/// The condition a settlement is written under.
fn settle_condition(settlement: &Settlement) -> &'static str {
    match settlement.task_arn {
        Some(_) if settlement.corrects_a_guess() => SETTLE_OR_CORRECT_CONDITION,
        Some(_) => SETTLE_CONDITION,
        None => SETTLE_CONDITION_NO_TASK,
    }
}

impl DispatchStore for DynamoStore {
    async fn dispatch_ids_for_task(&self, task_arn: &str) -> Result<Vec<String>, AwsError> {
        let call = Call::new("Query", &self.table_name);
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
            .interceptor(call.counter())
            .send()
            .await
            .map_err(|err| call.failed(err))?;
        Ok(output
            .items()
            .iter()
            .filter_map(|item| item.get(attr::DISPATCH_ID)?.as_s().ok().cloned())
            .collect())
    }

    async fn settle(&self, settlement: &Settlement) -> Result<SettleOutcome, AwsError> {
        let expression = settle_expression(settlement);
        let update_expression = expression.update();
        let Expression { names, values, .. } = expression;
        let call = Call::new("UpdateItem", &self.table_name);
        let result = self
            .update_item(&settlement.dispatch_id)
            .update_expression(update_expression)
            .condition_expression(settle_condition(settlement))
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            // The record as it was tells a correction of a guess from a first settle.
            .return_values(ReturnValue::AllOld)
            .customize()
            .interceptor(call.counter())
            .send()
            .await;
        match result {
            Ok(output) => match output.attributes.as_ref().and_then(item::record) {
                Some(old) if old.is_guess() => {
                    let guessed = old.status.unwrap_or_default();
                    self.mark_corrected(settlement, &guessed).await;
                    Ok(SettleOutcome::Corrected { guessed })
                }
                _ => Ok(SettleOutcome::Updated),
            },
            Err(SdkError::ServiceError(service)) => match service.err() {
                UpdateItemError::ConditionalCheckFailedException(failed) => {
                    let old = match failed.item().filter(|item| !item.is_empty()) {
                        Some(item) => item::record(item),
                        // Real DynamoDB returns the record (ALL_OLD). An implementation that
                        // does not must not turn a duplicate into a missing dispatch (retried,
                        // then parked), so the record is read once, strongly consistent,
                        // before concluding that it does not exist.
                        None => self.get(&settlement.dispatch_id).await?,
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
    /// An `UpdateItem` of one dispatch's record.
    fn update_item(&self, dispatch_id: &str) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table_name)
            .key(attr::DISPATCH_ID, AttributeValue::S(dispatch_id.to_owned()))
    }

    /// Records on a corrected dispatch which guess its true outcome replaced, while the
    /// record is still this write's. A second, rare write (the first cannot know what it
    /// replaces); its failure is logged, never an error: the dispatch is settled right.
    async fn mark_corrected(&self, settlement: &Settlement, guessed: &str) {
        let call = Call::new("UpdateItem", &self.table_name);
        let marked = self
            .update_item(&settlement.dispatch_id)
            .update_expression("SET #correctedGuess = :guessed")
            .condition_expression("#updateRequestId = :requestId")
            .expression_attribute_names("#correctedGuess", attr::CORRECTED_GUESS)
            .expression_attribute_names("#updateRequestId", attr::UPDATE_REQUEST_ID)
            .expression_attribute_values(":guessed", AttributeValue::S(guessed.to_owned()))
            .expression_attribute_values(
                ":requestId",
                AttributeValue::S(settlement.request_id.clone()),
            )
            .customize()
            .interceptor(call.counter())
            .send()
            .await;
        if let Err(err) = marked {
            tracing::warn!(error = %call.failed(err), "could not record the corrected guess on the dispatch");
        }
    }

    /// The record as it is now (a strongly consistent `GetItem`), if there is one.
    pub async fn get(&self, dispatch_id: &str) -> Result<Option<DispatchRecord>, AwsError> {
        let call = Call::new("GetItem", &self.table_name);
        let output = self
            .client
            .get_item()
            .table_name(&self.table_name)
            .key(attr::DISPATCH_ID, AttributeValue::S(dispatch_id.to_owned()))
            .consistent_read(true)
            .customize()
            .interceptor(call.counter())
            .send()
            .await
            .map_err(|err| call.failed(err))?;
        Ok(output.item.as_ref().and_then(item::record))
    }

    /// The records of `dispatch_ids` that exist (`BatchGetItem`, 100 keys a call, read
    /// eventually consistent: the settle's condition, not this read, guards the write).
    /// IDs that DynamoDB left unprocessed after [`UNPROCESSED_ROUNDS`] rounds, or whose
    /// call failed, are returned as unread: one failing call never loses the others.
    pub async fn get_many(&self, dispatch_ids: &[String]) -> Batch {
        let mut batch = Batch::default();
        for chunk in dispatch_ids.chunks(BATCH_GET) {
            let mut keys: Vec<Item> = chunk.iter().map(|id| key(id)).collect();
            for round in 1..=UNPROCESSED_ROUNDS {
                if keys.is_empty() {
                    break;
                }
                if round > 1 {
                    // Unprocessed keys mean the table is throttling: wait before asking again.
                    tokio::time::sleep(std::time::Duration::from_millis(50 << round)).await;
                }
                match self.batch_get(keys.clone()).await {
                    Ok((records, unprocessed)) => {
                        batch.records.extend(records);
                        keys = unprocessed;
                    }
                    Err(err) => {
                        batch.errors.push(err);
                        break;
                    }
                }
            }
            let unread = keys
                .iter()
                .filter_map(|key| key.get(attr::DISPATCH_ID)?.as_s().ok());
            batch.unread.extend(unread.cloned());
        }
        batch
    }

    /// One `BatchGetItem` call: the records found, and the keys left unprocessed.
    async fn batch_get(
        &self,
        keys: Vec<Item>,
    ) -> Result<(Vec<DispatchRecord>, Vec<Item>), AwsError> {
        let call = Call::new("BatchGetItem", &self.table_name);
        let request = KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .build()
            .map_err(|err| {
                AwsError::unusable("BatchGetItem", &self.table_name, &err.to_string())
            })?;
        let mut output = self
            .client
            .batch_get_item()
            .request_items(&self.table_name, request)
            .customize()
            .interceptor(call.counter())
            .send()
            .await
            .map_err(|err| call.failed(err))?;
        let items = output
            .responses
            .take()
            .and_then(|mut r| r.remove(&self.table_name));
        let records = items
            .unwrap_or_default()
            .iter()
            .filter_map(item::record)
            .collect();
        let unprocessed = output
            .unprocessed_keys
            .and_then(|mut left| left.remove(&self.table_name))
            .map(|left| left.keys)
            .unwrap_or_default();
        Ok((records, unprocessed))
    }
}

/// `BatchGetItem` takes at most this many keys.
const BATCH_GET: usize = 100;
/// How many times a batch's unprocessed keys are asked for, the first call included.
pub const UNPROCESSED_ROUNDS: u32 = 4;

/// What [`DynamoStore::get_many`] read.
#[derive(Debug, Default)]
pub struct Batch {
    pub records: Vec<DispatchRecord>,
    /// Asked for, never answered (DynamoDB kept throttling, or the call failed): unknown,
    /// not absent.
    pub unread: Vec<String>,
    /// The calls that failed.
    pub errors: Vec<AwsError>,
}

fn key(dispatch_id: &str) -> Item {
    Item::from([(
        attr::DISPATCH_ID.to_owned(),
        AttributeValue::S(dispatch_id.to_owned()),
    )])
}

/// A settle's update expression, with its names and values.
pub(crate) struct Expression {
    /// `#name = :name`, one per attribute set.
    pub assignments: Vec<String>,
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
    /// The attributes it removes.
    pub removed: Vec<&'static str>,
}

/// Builds the update expression, its names and its values. Optional facts that the event
/// does not carry are left out rather than written as empty. A write of the task's own
/// outcome also removes what only a guess writes (the provisional mark, and the guess's
/// stop code and reason where the truth has none), so a corrected record holds the truth
/// alone; a guess marks itself provisional.
pub(crate) fn settle_expression(s: &Settlement) -> Expression {
    let string = |value: &str| AttributeValue::S(value.to_owned());
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
    if s.provisional {
        fields.push((attr::PROVISIONAL, AttributeValue::Bool(true)));
    }
    let mut removed = Vec::new();
    if s.corrects_a_guess() {
        removed.push(attr::PROVISIONAL);
        if s.stop_code.is_none() {
            removed.push(attr::STOP_CODE);
        }
        if s.stopped_reason.is_none() {
            removed.push(attr::STOPPED_REASON);
        }
        values.insert(":guess".to_owned(), string(GUESS_STOP_CODE));
        names.insert("#stopCode".to_owned(), attr::STOP_CODE.to_owned());
    }

    // Each attribute is `#name = :name`; `:taskArn` serves the condition as well.
    let mut assignments = Vec::with_capacity(fields.len());
    for (name, value) in fields {
        names.insert(format!("#{name}"), name.to_owned());
        values.insert(format!(":{name}"), value);
        assignments.push(format!("#{name} = :{name}"));
    }
    for name in &removed {
        names.insert(format!("#{name}"), (*name).to_owned());
    }
    Expression {
        assignments,
        names,
        values,
        removed,
    }
}

impl Expression {
    /// The `SET` clause, then a `REMOVE` clause when something is removed.
    pub fn update(&self) -> String {
        let mut update = format!("SET {}", self.assignments.join(", "));
        if !self.removed.is_empty() {
            let removals: Vec<String> =
                self.removed.iter().map(|name| format!("#{name}")).collect();
            update.push_str(&format!(" REMOVE {}", removals.join(", ")));
        }
        update
    }
}

#[cfg(test)]
mod tests {
    use dispatch::dispatch_id::DispatchId;
    use dispatch::event::{EcsTaskDetail, StoppedTask};
    use dispatch::settlement::{for_stopped_task, Audit};

    use super::*;

    /// What the callback writes for a task that failed to start, through the real path.
    fn settlement() -> Settlement {
        let detail = EcsTaskDetail {
            task_arn: Some("arn".into()),
            last_status: Some("STOPPED".into()),
            stop_code: Some("TaskFailedToStart".into()),
            version: Some(3),
            ..EcsTaskDetail::default()
        };
        let at = "2020-01-01T00:00:00Z".parse().unwrap();
        let task = StoppedTask::from_detail(detail, at).unwrap();
        let id = DispatchId::parse("d", "a test").unwrap();
        for_stopped_task(&task, &id, "worker", "req-1", at).0
    }

    #[test]
    fn expression_sets_only_known_facts() {
        let expression = settle_expression(&settlement());
        let update = expression.update();
        let Expression {
            names,
            values,
            removed,
            ..
        } = expression;
        // What ECS reported of the task itself: it may replace a guess, so it also
        // removes what only a guess writes and the truth does not carry.
        assert_eq!(
            update,
            "SET #status = :status, #endedAt = :endedAt, #taskArn = :taskArn, \
             #updatedAt = :updatedAt, #updateRequestId = :updateRequestId, \
             #stopCode = :stopCode, #ecsVersion = :ecsVersion \
             REMOVE #provisional, #stoppedReason"
        );
        assert_eq!(removed, ["provisional", "stoppedReason"]);
        assert!(!names.contains_key("#exitCode"));
        assert_eq!(values[":ecsVersion"], AttributeValue::N("3".into()));
        assert_eq!(values[":taskArn"], AttributeValue::S("arn".into()));
        assert_eq!(values[":t2"], AttributeValue::S("TIMEOUT".into()));
        assert_eq!(values[":guess"], AttributeValue::S(GUESS_STOP_CODE.into()));
        // Four terminal statuses, seven assignments and the guess's stop code.
        assert_eq!(values.len(), 4 + 7 + 1);
        assert_eq!(settle_condition(&settlement()), SETTLE_OR_CORRECT_CONDITION);
    }

    #[test]
    fn a_guess_is_provisional_and_corrects_nothing() {
        let guess = Settlement {
            stop_code: Some(GUESS_STOP_CODE.into()),
            stopped_reason: Some("ECS has no record of the task".into()),
            provisional: true,
            ..settlement()
        };
        let expression = settle_expression(&guess);
        let (update, removed) = (expression.update(), expression.removed);
        assert!(update.ends_with("#provisional = :provisional"), "{update}");
        assert!(removed.is_empty());
        assert_eq!(settle_condition(&guess), SETTLE_CONDITION);
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
        let expression = settle_expression(&by_hand);
        let update = expression.update();
        let Expression { names, values, .. } = expression;
        assert_eq!(
            update,
            "SET #status = :status, #endedAt = :endedAt, #updatedAt = :updatedAt, \
             #updateRequestId = :updateRequestId, #settledBy = :settledBy, \
             #settleReason = :settleReason"
        );
        // The condition still names `#taskArn`: the record must have no task either.
        assert!(names.contains_key("#taskArn") && !values.contains_key(":taskArn"));
        assert_eq!(settle_condition(&by_hand), SETTLE_CONDITION_NO_TASK);
    }
}

//! Every threshold and tunable of the stack, in one place, with the runbook's values.
//!
//! The runbook (`runbook.md`) is the specification: its alarm sections give these
//! thresholds, so a change here is a change to the runbook first. The names of the
//! deployed resources are not here: the function and the stack must agree on them, so
//! they come from the `contract` crate, and the stack takes them from there directly.
//! [`crate::stack::build`] is a pure function of this struct.

use contract::resources::{self, alarms};
use contract::table::{self, Index};

use crate::cfn::resources::cloudwatch::{
    AlarmStatistic, ComparisonOperator, Percentile, Statistic, TreatMissingData,
};
use crate::cfn::resources::dynamodb::ProjectionType;
use crate::cfn::resources::lambda::{Architecture, Runtime};

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub description: String,
    pub table: TableConfig,
    pub function: FunctionConfig,
    pub log_group: LogGroupConfig,
    pub rule: RuleConfig,
    pub failure_queue: QueueConfig,
    pub dead_letter_queue: QueueConfig,
    /// The runbook's three alarms on the function.
    pub function_alarms: Vec<AlarmConfig>,
    /// Beyond the runbook: alarms on events waiting in a queue for an operator.
    pub queue_alarms: QueueAlarms,
    pub reconciler: ReconcilerConfig,
}

/// The scheduled reconciler: settles what the event path lost.
#[derive(Clone, Debug, PartialEq)]
pub struct ReconcilerConfig {
    pub memory_mb: u32,
    /// Seconds; a run of the default 1,000 dispatches takes far less.
    pub timeout_seconds: u32,
    /// One run at a time: two overlapping runs would only examine the same dispatches.
    pub reserved_concurrency: u32,
    /// The schedule periods offered, in minutes; the first is the default.
    pub every_minutes: [u32; 5],
    pub default_grace_minutes: u32,
    pub default_max_age_minutes: u32,
    pub default_max_records: u32,
    /// Fires when a run settled anything: the event path lost an event.
    pub settled_alarm: AlarmConfig,
    /// Fires when a run failed.
    pub errors_alarm: AlarmConfig,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TableConfig {
    /// Looks dispatches up by ECS task ARN; the function queries it.
    pub task_arn_index: IndexConfig,
    /// Lists dispatches by status, newest last; the runbook's operators query it.
    pub status_index: IndexConfig,
}

/// A global secondary index: its name and keys (from the contract) and what it projects.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexConfig {
    pub index: Index,
    pub projection: ProjectionType,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FunctionConfig {
    pub runtime: Runtime,
    pub handler: &'static str,
    pub default_architecture: Architecture,
    pub memory_mb: u32,
    pub timeout_seconds: u32,
    /// Lambda's own retries of a failed asynchronous invocation (0 to 2).
    pub async_retry_attempts: u32,
    /// How long Lambda keeps an event queued for (re)invocation (60 to 21600 seconds).
    pub async_max_event_age_seconds: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LogGroupConfig {
    pub default_retention_days: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RuleConfig {
    /// EventBridge's retries when it cannot deliver to the function (0 to 185).
    pub retry_attempts: u32,
    /// How long EventBridge keeps retrying one event (60 to 86400 seconds).
    pub max_event_age_seconds: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct QueueConfig {
    pub name: &'static str,
    pub retention_seconds: u32,
}

/// One alarm's metric and thresholds; the dimension is wired by the stack.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmConfig {
    /// The alarm's logical ID in the template.
    pub logical_id: &'static str,
    pub name: &'static str,
    pub description: String,
    pub namespace: &'static str,
    pub metric: &'static str,
    pub statistic: AlarmStatistic,
    pub period_seconds: u32,
    pub evaluation_periods: u32,
    pub threshold: f64,
    pub comparison: ComparisonOperator,
    pub treat_missing_data: TreatMissingData,
}

#[derive(Clone, Debug, PartialEq)]
pub struct QueueAlarms {
    pub failure_queue: AlarmConfig,
    pub dead_letter_queue: AlarmConfig,
}

const LAMBDA_NAMESPACE: &str = "AWS/Lambda";
const SQS_NAMESPACE: &str = "AWS/SQS";
/// SQS's retention maximum: 14 days, to give operators time to redrive.
const FOURTEEN_DAYS: u32 = 14 * 24 * 60 * 60;

impl Config {
    /// The stack the runbook describes.
    pub fn runbook() -> Self {
        Config {
            description: format!(
                "{}: settles dispatch records in DynamoDB when their ECS tasks stop \
                 (EventBridge rule, Lambda function, DynamoDB table, queues, alarms, \
                 dashboard).",
                resources::STACK
            ),
            table: TableConfig::runbook(),
            function: FunctionConfig::runbook(),
            log_group: LogGroupConfig {
                default_retention_days: 30,
            },
            rule: RuleConfig::runbook(),
            failure_queue: QueueConfig {
                name: resources::FAILURE_QUEUE,
                retention_seconds: FOURTEEN_DAYS,
            },
            dead_letter_queue: QueueConfig {
                name: resources::DEAD_LETTER_QUEUE,
                retention_seconds: FOURTEEN_DAYS,
            },
            function_alarms: function_alarms(),
            queue_alarms: QueueAlarms::runbook(),
            reconciler: ReconcilerConfig::runbook(),
        }
    }
}

impl TableConfig {
    fn runbook() -> Self {
        TableConfig {
            // The function only needs the dispatch ID from this index (it then writes
            // with one conditional UpdateItem on the table), so the index holds keys
            // only: the smallest index and the cheapest writes.
            task_arn_index: IndexConfig {
                index: table::TASK_ARN_INDEX,
                projection: ProjectionType::KeysOnly,
            },
            // The runbook's "query dispatches by status" prints whole records with no
            // projection expression, so the index projects everything; anything less
            // would show operators silently truncated records.
            status_index: IndexConfig {
                index: table::STATUS_INDEX,
                projection: ProjectionType::All,
            },
        }
    }
}

impl FunctionConfig {
    fn runbook() -> Self {
        FunctionConfig {
            runtime: Runtime::ProvidedAl2023,
            handler: "bootstrap",
            default_architecture: Architecture::Arm64,
            memory_mb: 256,
            timeout_seconds: 30,
            // The most Lambda allows; an event that still fails goes to the failure
            // queue rather than being dropped.
            async_retry_attempts: 2,
            // The most Lambda allows (6 hours): a DynamoDB outage shorter than that
            // heals without an operator.
            async_max_event_age_seconds: 21_600,
        }
    }
}

impl RuleConfig {
    fn runbook() -> Self {
        RuleConfig {
            // EventBridge's own maxima (and defaults): delivery to Lambda fails only
            // when Lambda refuses the event (throttling, a deleted function, a broken
            // permission), and a day of retries outlasts such incidents; what still
            // fails lands in the dead-letter queue.
            retry_attempts: 185,
            max_event_age_seconds: 86_400,
        }
    }
}

/// The runbook's three alarms on the function: errors, p95 duration and throttles.
fn function_alarms() -> Vec<AlarmConfig> {
    vec![
        any_in_five_minutes(
            "CallbackErrorsAlarm",
            alarms::ERRORS,
            format!(
                "Lambda errors occurred. Runbook: Alarm: {}.",
                alarms::ERRORS
            ),
            LAMBDA_NAMESPACE,
            "Errors",
        ),
        AlarmConfig {
            logical_id: "CallbackDurationAlarm",
            name: alarms::DURATION,
            description: format!(
                "Lambda p95 duration exceeds 500 ms. Runbook: Alarm: {}.",
                alarms::DURATION
            ),
            namespace: LAMBDA_NAMESPACE,
            metric: "Duration",
            statistic: AlarmStatistic::ExtendedStatistic(Percentile(95)),
            period_seconds: 300,
            evaluation_periods: 2,
            threshold: 500.0,
            comparison: ComparisonOperator::GreaterThanThreshold,
            treat_missing_data: TreatMissingData::NotBreaching,
        },
        AlarmConfig {
            logical_id: "CallbackThrottlesAlarm",
            name: alarms::THROTTLES,
            description: format!(
                "Lambda invocations are throttled. Runbook: Alarm: {}.",
                alarms::THROTTLES
            ),
            namespace: LAMBDA_NAMESPACE,
            metric: "Throttles",
            statistic: AlarmStatistic::Statistic(Statistic::Sum),
            period_seconds: 60,
            evaluation_periods: 1,
            threshold: 0.0,
            comparison: ComparisonOperator::GreaterThanThreshold,
            treat_missing_data: TreatMissingData::NotBreaching,
        },
    ]
}

impl QueueAlarms {
    fn runbook() -> Self {
        QueueAlarms {
            failure_queue: queue_alarm(
                "CallbackFailuresWaitingAlarm",
                alarms::FAILURES_WAITING,
                format!(
                    "Events the function failed to process after its retries wait in the \
                     {} queue; inspect and redrive them.",
                    resources::FAILURE_QUEUE
                ),
            ),
            dead_letter_queue: queue_alarm(
                "CompletionDeadLettersWaitingAlarm",
                alarms::DEAD_LETTERS_WAITING,
                format!(
                    "Events EventBridge could not deliver to the function wait in the \
                     {} queue; inspect and redrive them.",
                    resources::DEAD_LETTER_QUEUE
                ),
            ),
        }
    }
}

impl ReconcilerConfig {
    fn runbook() -> Self {
        ReconcilerConfig {
            memory_mb: 256,
            timeout_seconds: 120,
            reserved_concurrency: 1,
            every_minutes: [5, 1, 10, 15, 30],
            default_grace_minutes: 10,
            default_max_age_minutes: 120,
            default_max_records: 1000,
            settled_alarm: reconciler_settled_alarm(),
            errors_alarm: any_in_five_minutes(
                "ReconcilerErrorsAlarm",
                alarms::RECONCILER_ERRORS,
                format!(
                    "A {} run failed: it could check nothing (its log says why). The \
                     next scheduled run tries again.",
                    resources::RECONCILER
                ),
                LAMBDA_NAMESPACE,
                "Errors",
            ),
        }
    }
}

/// Fires when a reconciler run settled anything; its description says where to look for
/// the event the event path lost.
fn reconciler_settled_alarm() -> AlarmConfig {
    any_in_five_minutes(
        "ReconcilerSettledAlarm",
        alarms::RECONCILER_SETTLED,
        format!(
            "The reconciler settled a dispatch whose task had stopped: the event \
             path lost its event. Look at the {} log lines (\"{}\") for which \
             dispatches, then at the {} rule's state, the {} queues and the \
             callback's errors for why.",
            resources::RECONCILER,
            contract::logs::RECONCILER_SETTLED,
            resources::RULE,
            resources::FAILURE_QUEUE,
        ),
        contract::metrics::NAMESPACE,
        contract::metrics::reconciler::SETTLED,
    )
}

impl Default for Config {
    fn default() -> Self {
        Config::runbook()
    }
}

/// An alarm that fires as soon as a five-minute sum of `metric` is above zero.
fn any_in_five_minutes(
    logical_id: &'static str,
    name: &'static str,
    description: String,
    namespace: &'static str,
    metric: &'static str,
) -> AlarmConfig {
    AlarmConfig {
        logical_id,
        name,
        description,
        namespace,
        metric,
        statistic: AlarmStatistic::Statistic(Statistic::Sum),
        period_seconds: 300,
        evaluation_periods: 1,
        threshold: 0.0,
        comparison: ComparisonOperator::GreaterThanThreshold,
        treat_missing_data: TreatMissingData::NotBreaching,
    }
}

/// An alarm that fires as soon as one message waits in a queue: every message there is
/// a dispatch whose status will not settle without an operator.
fn queue_alarm(logical_id: &'static str, name: &'static str, description: String) -> AlarmConfig {
    AlarmConfig {
        logical_id,
        name,
        description,
        namespace: SQS_NAMESPACE,
        metric: "ApproximateNumberOfMessagesVisible",
        statistic: AlarmStatistic::Statistic(Statistic::Maximum),
        period_seconds: 300,
        evaluation_periods: 1,
        threshold: 0.0,
        comparison: ComparisonOperator::GreaterThanThreshold,
        treat_missing_data: TreatMissingData::NotBreaching,
    }
}

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
    pub default_log_retention_days: u32,
    pub rule: RuleConfig,
    pub failure_queue: QueueConfig,
    pub dead_letter_queue: QueueConfig,
    /// The runbook's three alarms on the function.
    pub function_alarms: Vec<AlarmConfig>,
    pub reconciler: ReconcilerConfig,
}

/// The scheduled reconciler: settles what the event path lost.
#[derive(Clone, Debug, PartialEq)]
pub struct ReconcilerConfig {
    pub memory_mb: u32,
    /// Seconds; a run's sweep stops short of it and leaves the rest to the next run.
    pub timeout_seconds: u32,
    /// The schedule periods offered, in minutes; the first is the default.
    pub every_minutes: [u32; 5],
    pub default_grace_minutes: u32,
    pub default_max_age_minutes: u32,
    pub default_sweep_minutes: u32,
    /// Fires when a run settled anything: the event path lost an event.
    pub settled_alarm: AlarmConfig,
    /// Fires when a run failed.
    pub errors_alarm: AlarmConfig,
    /// Fires when every run for 30 minutes left dispatches unchecked.
    pub unchecked_alarm: AlarmConfig,
    /// Fires when a dispatch that never recorded a task is older than the maximum age.
    pub no_task_alarm: AlarmConfig,
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
    /// Beyond the runbook: fires on events waiting in the queue for an operator.
    pub alarm: AlarmConfig,
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
    pub threshold: u32,
    pub comparison: ComparisonOperator,
    pub treat_missing_data: TreatMissingData,
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
            table: TableConfig {
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
            },
            function: FunctionConfig {
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
            },
            default_log_retention_days: 30,
            // EventBridge's own maxima (and defaults): delivery to Lambda fails only
            // when Lambda refuses the event (throttling, a deleted function, a broken
            // permission), and a day of retries outlasts such incidents; what still
            // fails lands in the dead-letter queue.
            rule: RuleConfig {
                retry_attempts: 185,
                max_event_age_seconds: 86_400,
            },
            failure_queue: QueueConfig::waiting_for_an_operator(
                resources::FAILURE_QUEUE,
                "CallbackFailuresWaitingAlarm",
                alarms::FAILURES_WAITING,
                "Events the function failed to process after its retries",
            ),
            dead_letter_queue: QueueConfig::waiting_for_an_operator(
                resources::DEAD_LETTER_QUEUE,
                "CompletionDeadLettersWaitingAlarm",
                alarms::DEAD_LETTERS_WAITING,
                "Events EventBridge could not deliver to the function",
            ),
            function_alarms: function_alarms(),
            reconciler: ReconcilerConfig::runbook(),
        }
    }
}

/// The runbook's three alarms on the function: errors, p95 duration and throttles, each
/// described with the runbook's section on it.
fn function_alarms() -> Vec<AlarmConfig> {
    let alarm = |logical_id, name: &'static str, what: &str, metric| {
        let description = format!("{what} Runbook: Alarm: {name}.");
        AlarmConfig::above_zero(logical_id, name, description, LAMBDA_NAMESPACE, metric)
    };
    vec![
        alarm(
            "CallbackErrorsAlarm",
            alarms::ERRORS,
            "Lambda errors occurred.",
            "Errors",
        ),
        AlarmConfig {
            statistic: AlarmStatistic::ExtendedStatistic(Percentile(95)),
            evaluation_periods: 2,
            threshold: 500,
            ..alarm(
                "CallbackDurationAlarm",
                alarms::DURATION,
                "Lambda p95 duration exceeds 500 ms.",
                "Duration",
            )
        },
        AlarmConfig {
            period_seconds: 60,
            ..alarm(
                "CallbackThrottlesAlarm",
                alarms::THROTTLES,
                "Lambda invocations are throttled.",
                "Throttles",
            )
        },
    ]
}

impl QueueConfig {
    /// A queue of events that wait for an operator, kept as long as SQS allows, with an
    /// alarm that fires as soon as one message waits there: every message there is a
    /// dispatch whose status will not settle without an operator.
    fn waiting_for_an_operator(
        name: &'static str,
        logical_id: &'static str,
        alarm: &'static str,
        what: &str,
    ) -> Self {
        let description = format!("{what} wait in the {name} queue; inspect and redrive them.");
        let metric = "ApproximateNumberOfMessagesVisible";
        QueueConfig {
            name,
            retention_seconds: FOURTEEN_DAYS,
            alarm: AlarmConfig {
                statistic: AlarmStatistic::Statistic(Statistic::Maximum),
                ..AlarmConfig::above_zero(logical_id, alarm, description, SQS_NAMESPACE, metric)
            },
        }
    }
}

impl ReconcilerConfig {
    fn runbook() -> Self {
        ReconcilerConfig {
            memory_mb: 256,
            timeout_seconds: 120,
            every_minutes: [5, 1, 10, 15, 30],
            default_grace_minutes: 10,
            default_max_age_minutes: 120,
            default_sweep_minutes: 60,
            settled_alarm: AlarmConfig::above_zero(
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
            ),
            errors_alarm: AlarmConfig::above_zero(
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
            // Each run writes its unchecked count, zero included: the least over half an
            // hour above zero means no run in it checked everything.
            unchecked_alarm: AlarmConfig {
                statistic: AlarmStatistic::Statistic(Statistic::Minimum),
                period_seconds: 30 * 60,
                ..AlarmConfig::above_zero(
                    "ReconcilerUncheckedAlarm",
                    alarms::RECONCILER_UNCHECKED,
                    format!(
                        "Every {} run for 30 minutes left dispatches unchecked: ECS or \
                         DynamoDB gave no usable answer for them. Its log lines (\"{}\") \
                         name each dispatch and why.",
                        resources::RECONCILER,
                        contract::logs::RECONCILER_UNCHECKED,
                    ),
                    contract::metrics::NAMESPACE,
                    contract::metrics::reconciler::UNCHECKED,
                )
            },
            // The sweep sees each dispatch once a sweep period (an hour by default).
            no_task_alarm: AlarmConfig {
                period_seconds: 60 * 60,
                ..AlarmConfig::above_zero(
                    "ReconcilerNoTaskPastMaxAgeAlarm",
                    alarms::RECONCILER_NO_TASK,
                    format!(
                        "A dispatch that never recorded a task is older than the maximum \
                         age. It is not closed: in the launch race its true outcome may \
                         still arrive. Find it (\"{}\", past_max_age=true, or outpost-ops \
                         stuck), check with the control plane, and close it with \
                         outpost-ops settle.",
                        contract::logs::RECONCILER_NO_TASK,
                    ),
                    contract::metrics::NAMESPACE,
                    contract::metrics::reconciler::NO_TASK_PAST_MAX_AGE,
                )
            },
        }
    }
}

impl AlarmConfig {
    /// An alarm that fires as soon as a five-minute sum of `metric` is above zero.
    fn above_zero(
        logical_id: &'static str,
        name: &'static str,
        description: String,
        namespace: &'static str,
        metric: &'static str,
    ) -> Self {
        AlarmConfig {
            logical_id,
            name,
            description,
            namespace,
            metric,
            statistic: AlarmStatistic::Statistic(Statistic::Sum),
            period_seconds: 300,
            evaluation_periods: 1,
            threshold: 0,
            comparison: ComparisonOperator::GreaterThanThreshold,
            treat_missing_data: TreatMissingData::NotBreaching,
        }
    }
}

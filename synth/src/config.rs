//! Every name and threshold of the stack, in one place, with the runbook's values.
//!
//! The runbook (`runbook.md`) is the specification: its commands name these resources
//! and its alarm sections give these thresholds, so a change here is a change to the
//! runbook first. [`crate::stack::build`] is a pure function of this struct.

use crate::cfn::resources::cloudwatch::{
    AlarmStatistic, ComparisonOperator, Percentile, Statistic, TreatMissingData,
};
use crate::cfn::resources::dynamodb::ProjectionType;
use crate::cfn::resources::lambda::{Architecture, Runtime};

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub description: &'static str,
    pub table: TableConfig,
    pub function: FunctionConfig,
    pub log_group: LogGroupConfig,
    pub rule: RuleConfig,
    pub failure_queue: QueueConfig,
    pub dead_letter_queue: QueueConfig,
    pub metrics: MetricsConfig,
    /// The runbook's three alarms on the function.
    pub function_alarms: Vec<AlarmConfig>,
    /// Beyond the runbook: alarms on events waiting in a queue for an operator.
    pub queue_alarms: QueueAlarms,
    pub dashboard_name: &'static str,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TableConfig {
    pub name: &'static str,
    pub partition_key: &'static str,
    /// Looks dispatches up by ECS task ARN; the function queries it.
    pub task_arn_index: IndexConfig,
    /// Lists dispatches by status, newest last; the runbook's operators query it.
    pub status_index: IndexConfig,
}

#[derive(Clone, Debug, PartialEq)]
pub struct IndexConfig {
    pub name: &'static str,
    pub partition_key: &'static str,
    pub sort_key: Option<&'static str>,
    pub projection: ProjectionType,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FunctionConfig {
    pub name: &'static str,
    pub runtime: Runtime,
    pub handler: &'static str,
    pub default_architecture: Architecture,
    pub memory_mb: u32,
    pub timeout_seconds: u32,
    /// The container whose exit code decides the dispatch status, unless overridden.
    pub default_worker_container: &'static str,
    /// `emf` (metrics as structured log lines) or `cloudwatch` (PutMetricData).
    pub metrics_sink: &'static str,
    /// Lambda's own retries of a failed asynchronous invocation (0 to 2).
    pub async_retry_attempts: u32,
    /// How long Lambda keeps an event queued for (re)invocation (60 to 21600 seconds).
    pub async_max_event_age_seconds: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LogGroupConfig {
    pub name: &'static str,
    pub default_retention_days: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RuleConfig {
    pub name: &'static str,
    pub source: &'static str,
    pub detail_type: &'static str,
    pub last_status: &'static str,
    /// The cluster the rule listens to when no `ClusterArn` is given (in the stack's
    /// account and region).
    pub default_cluster_name: &'static str,
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

/// The function's custom metrics, as it emits them.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricsConfig {
    pub namespace: &'static str,
    /// The one dimension every custom metric carries (with the function name as value).
    pub dimension: &'static str,
    pub callback_latency: &'static str,
    pub updates_successful: &'static str,
    pub updates_skipped: &'static str,
    pub updates_failed: &'static str,
}

/// One alarm's metric and thresholds; the dimension is wired by the stack.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmConfig {
    /// The alarm's logical ID in the template.
    pub logical_id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
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
            description: "outpost-dispatch-callback: settles dispatch records in DynamoDB when \
                          their ECS tasks stop (EventBridge rule, Lambda function, DynamoDB \
                          table, queues, alarms, dashboard).",
            table: TableConfig {
                name: "outpost-dispatches",
                partition_key: "dispatchId",
                // The function only needs the dispatch ID from this index (it then
                // writes with one conditional UpdateItem on the table), so the index
                // holds keys only: the smallest index and the cheapest writes.
                task_arn_index: IndexConfig {
                    name: "task_arn-index",
                    partition_key: "taskArn",
                    sort_key: None,
                    projection: ProjectionType::KeysOnly,
                },
                // The runbook's "query dispatches by status" prints whole records with no
                // projection expression, so the index projects everything; anything less
                // would show operators silently truncated records.
                status_index: IndexConfig {
                    name: "status-createdAt-index",
                    partition_key: "status",
                    sort_key: Some("createdAt"),
                    projection: ProjectionType::All,
                },
            },
            function: FunctionConfig {
                name: "outpost-dispatch-callback",
                runtime: Runtime::ProvidedAl2023,
                handler: "bootstrap",
                default_architecture: Architecture::Arm64,
                memory_mb: 256,
                timeout_seconds: 30,
                default_worker_container: "worker",
                metrics_sink: "emf",
                // The most Lambda allows; an event that still fails goes to the failure
                // queue rather than being dropped.
                async_retry_attempts: 2,
                // The most Lambda allows (6 hours): a DynamoDB outage shorter than that
                // heals without an operator.
                async_max_event_age_seconds: 21_600,
            },
            log_group: LogGroupConfig {
                name: "/aws/lambda/outpost-dispatch-callback",
                default_retention_days: 30,
            },
            rule: RuleConfig {
                name: "outpost-dispatch-completion",
                source: "aws.ecs",
                detail_type: "ECS Task State Change",
                last_status: "STOPPED",
                default_cluster_name: "outpost-dev",
                // EventBridge's own maxima (and defaults): delivery to Lambda fails only
                // when Lambda refuses the event (throttling, a deleted function, a broken
                // permission), and a day of retries outlasts such incidents; what still
                // fails lands in the dead-letter queue.
                retry_attempts: 185,
                max_event_age_seconds: 86_400,
            },
            failure_queue: QueueConfig {
                name: "outpost-dispatch-callback-failures",
                retention_seconds: FOURTEEN_DAYS,
            },
            dead_letter_queue: QueueConfig {
                name: "outpost-dispatch-completion-dlq",
                retention_seconds: FOURTEEN_DAYS,
            },
            metrics: MetricsConfig {
                namespace: "Outpost/Callbacks",
                dimension: "FunctionName",
                callback_latency: "CallbackLatencyMs",
                updates_successful: "DispatchUpdatesSuccessful",
                updates_skipped: "DispatchUpdatesSkipped",
                updates_failed: "DispatchUpdatesFailed",
            },
            function_alarms: vec![
                AlarmConfig {
                    logical_id: "CallbackErrorsAlarm",
                    name: "outpost-dispatch-callback-errors",
                    description: "Lambda errors occurred. Runbook: Alarm: \
                                  outpost-dispatch-callback-errors.",
                    namespace: LAMBDA_NAMESPACE,
                    metric: "Errors",
                    statistic: AlarmStatistic::Statistic(Statistic::Sum),
                    period_seconds: 300,
                    evaluation_periods: 1,
                    threshold: 0.0,
                    comparison: ComparisonOperator::GreaterThanThreshold,
                    treat_missing_data: TreatMissingData::NotBreaching,
                },
                AlarmConfig {
                    logical_id: "CallbackDurationAlarm",
                    name: "outpost-dispatch-callback-duration",
                    description: "Lambda p95 duration exceeds 500 ms. Runbook: Alarm: \
                                  outpost-dispatch-callback-duration.",
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
                    name: "outpost-dispatch-callback-throttles",
                    description: "Lambda invocations are throttled. Runbook: Alarm: \
                                  outpost-dispatch-callback-throttles.",
                    namespace: LAMBDA_NAMESPACE,
                    metric: "Throttles",
                    statistic: AlarmStatistic::Statistic(Statistic::Sum),
                    period_seconds: 60,
                    evaluation_periods: 1,
                    threshold: 0.0,
                    comparison: ComparisonOperator::GreaterThanThreshold,
                    treat_missing_data: TreatMissingData::NotBreaching,
                },
            ],
            queue_alarms: QueueAlarms {
                failure_queue: queue_alarm(
                    "CallbackFailuresWaitingAlarm",
                    "outpost-dispatch-callback-failures-waiting",
                    "Events the function failed to process after its retries wait in the \
                     outpost-dispatch-callback-failures queue; inspect and redrive them.",
                ),
                dead_letter_queue: queue_alarm(
                    "CompletionDeadLettersWaitingAlarm",
                    "outpost-dispatch-completion-dlq-waiting",
                    "Events EventBridge could not deliver to the function wait in the \
                     outpost-dispatch-completion-dlq queue; inspect and redrive them.",
                ),
            },
            dashboard_name: "outpost-dispatch-callback",
        }
    }

    /// The runbook's alarms and ours, in the order the stack declares them.
    pub fn all_alarms(&self) -> impl Iterator<Item = &AlarmConfig> {
        self.function_alarms.iter().chain([
            &self.queue_alarms.failure_queue,
            &self.queue_alarms.dead_letter_queue,
        ])
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::runbook()
    }
}

/// An alarm that fires as soon as one message waits in a queue: every message there is
/// a dispatch whose status will not settle without an operator.
fn queue_alarm(
    logical_id: &'static str,
    name: &'static str,
    description: &'static str,
) -> AlarmConfig {
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

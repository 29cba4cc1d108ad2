//! The alarms: the runbook's on the function, ours on the two queues where events wait
//! for an operator, and the reconciler's.

use crate::cfn::resources::cloudwatch::{Alarm, Dimension};
use crate::cfn::{Expr, Template};
use crate::config::{AlarmConfig, Config};

use super::callback::Callback;
use super::parameters::Parameters;
use super::reconciler::Reconciler;
use super::rule::Completion;

/// The dimensions of the AWS namespaces' metrics (not of our custom ones).
const FUNCTION_NAME: &str = "FunctionName";
const QUEUE_NAME: &str = "QueueName";

pub(super) fn add(
    template: &mut Template,
    config: &Config,
    parameters: &Parameters,
    callback: &Callback,
    completion: &Completion,
    reconciler: &Reconciler,
) {
    // Every alarm notifies the topic, when one is given, of both alarm and recovery.
    let actions = Expr::if_(
        &parameters.alarm_topic_given,
        Expr::List(vec![parameters.alarm_topic_arn.value()]),
        Expr::no_value(),
    );
    let function_alarms = config
        .function_alarms
        .iter()
        .map(|alarm_config| (alarm_config, FUNCTION_NAME, callback.function.name()));
    let queue_alarms = [
        (
            &config.queue_alarms.failure_queue,
            QUEUE_NAME,
            callback.failure_queue.name(),
        ),
        (
            &config.queue_alarms.dead_letter_queue,
            QUEUE_NAME,
            completion.dead_letter_queue.name(),
        ),
    ];
    // The reconciler's: a run settled something (the event path lost an event), a run failed.
    let reconciler_alarms = [
        (
            &config.reconciler.settled_alarm,
            FUNCTION_NAME,
            reconciler.function.name(),
        ),
        (
            &config.reconciler.errors_alarm,
            FUNCTION_NAME,
            reconciler.function.name(),
        ),
    ];
    let all = function_alarms.chain(queue_alarms).chain(reconciler_alarms);
    for (alarm_config, dimension_name, value) in all {
        let dimension = Dimension {
            name: dimension_name.to_owned(),
            value,
        };
        template.add(
            alarm_config.logical_id,
            alarm(alarm_config, dimension, &actions),
        );
    }
}

fn alarm(config: &AlarmConfig, dimension: Dimension, actions: &Expr) -> Alarm {
    Alarm {
        alarm_name: config.name.to_owned(),
        alarm_description: config.description.clone(),
        namespace: config.namespace.to_owned(),
        metric_name: config.metric.to_owned(),
        dimensions: vec![dimension],
        statistic: config.statistic,
        period: config.period_seconds,
        evaluation_periods: config.evaluation_periods,
        threshold: config.threshold,
        comparison_operator: config.comparison,
        treat_missing_data: config.treat_missing_data,
        alarm_actions: Some(actions.clone()),
        ok_actions: Some(actions.clone()),
    }
}

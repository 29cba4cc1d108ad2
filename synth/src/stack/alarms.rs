//! The alarms: the runbook's on the function, ours on the two queues where events wait
//! for an operator, and the reconciler's.

use crate::cfn::resources::cloudwatch::{Alarm, Dimension};
use crate::cfn::resources::lambda::Function;
use crate::cfn::resources::sqs::Queue;
use crate::cfn::{Expr, Id, Template};
use crate::config::Config;

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
    let function = |id: &Id<Function>| (FUNCTION_NAME, id.name());
    let queue = |id: &Id<Queue>| (QUEUE_NAME, id.name());
    let function_alarms = config.function_alarms.iter();
    let function_alarms = function_alarms.map(|alarm| (alarm, function(&callback.function)));
    let others = [
        (&config.failure_queue.alarm, queue(&callback.failure_queue)),
        (
            &config.dead_letter_queue.alarm,
            queue(&completion.dead_letter_queue),
        ),
        // The reconciler's: a run settled something (the event path lost an event), a run
        // failed.
        (
            &config.reconciler.settled_alarm,
            function(&reconciler.function),
        ),
        (
            &config.reconciler.errors_alarm,
            function(&reconciler.function),
        ),
        // Dispatches left unchecked for half an hour; a dispatch without a task past the
        // maximum age, which only a person may close.
        (
            &config.reconciler.unchecked_alarm,
            function(&reconciler.function),
        ),
        (
            &config.reconciler.no_task_alarm,
            function(&reconciler.function),
        ),
    ];
    for (alarm, (dimension, value)) in function_alarms.chain(others) {
        let properties = Alarm {
            alarm_name: alarm.name.to_owned(),
            alarm_description: alarm.description.clone(),
            namespace: alarm.namespace.to_owned(),
            metric_name: alarm.metric.to_owned(),
            dimensions: vec![Dimension {
                name: dimension.to_owned(),
                value,
            }],
            statistic: alarm.statistic,
            period: alarm.period_seconds,
            evaluation_periods: alarm.evaluation_periods,
            threshold: alarm.threshold,
            comparison_operator: alarm.comparison,
            treat_missing_data: alarm.treat_missing_data,
            alarm_actions: Some(actions.clone()),
            ok_actions: Some(actions.clone()),
        };
        template.add(alarm.logical_id, properties);
    }
}

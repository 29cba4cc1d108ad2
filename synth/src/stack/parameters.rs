//! The template's parameters, and the conditions that test whether optional ones are set.

use contract::{env, resources};

use crate::cfn::resources::lambda::Architecture;
use crate::cfn::{Condition, ConditionId, Expr, Parameter, ParameterId, Scalar, Template};
use crate::config::Config;

/// The `ClusterArn` that makes the rule listen to every cluster.
pub(super) const ANY_CLUSTER: &str = "*";

/// The retention periods CloudWatch Logs accepts, in days.
const LOG_RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// The parameters a deploy takes from the build (where the code is, and for which
/// instruction set it was compiled), never from an environment file.
pub const FROM_THE_BUILD: [&str; 4] = [CODE_BUCKET, CODE_KEY, RECONCILER_CODE_KEY, ARCHITECTURE];
const CODE_BUCKET: &str = "CodeBucket";
const CODE_KEY: &str = "CodeKey";
const RECONCILER_CODE_KEY: &str = "ReconcilerCodeKey";
const ARCHITECTURE: &str = "Architecture";

/// The reconciler's timing parameters, each with the variable it sets: settings that
/// must agree (`Timing::contradiction`).
pub const TIMING: Timing<(env::Var, &str)> = Timing {
    every: (env::reconciler::EVERY_MINUTES, "ReconcileEveryMinutes"),
    grace: (env::reconciler::GRACE_MINUTES, "ReconcileGraceMinutes"),
    sweep: (env::reconciler::SWEEP_MINUTES, "ReconcileSweepMinutes"),
    max_age: (env::reconciler::MAX_AGE_MINUTES, "ReconcileMaxAgeMinutes"),
};

/// One thing for each of the reconciler's four timing settings.
#[derive(Clone, Copy, Debug)]
pub struct Timing<T> {
    pub every: T,
    pub grace: T,
    pub sweep: T,
    pub max_age: T,
}

impl<T: Copy> Timing<T> {
    pub fn all(&self) -> [T; 4] {
        [self.every, self.grace, self.sweep, self.max_age]
    }
}

/// The parameters the template takes, and the conditions on them.
pub(super) struct Parameters {
    pub architecture: ParameterId,
    pub code_bucket: ParameterId,
    pub code_key: ParameterId,
    pub worker_container: ParameterId,
    pub log_retention_days: ParameterId,
    pub cluster_arn: ParameterId,
    pub alarm_topic_arn: ParameterId,
    /// Whether `ClusterArn` names a cluster; the rule's default cluster is used if not.
    pub cluster_arn_given: ConditionId,
    /// Whether `ClusterArn` is `*`: the rule listens to every cluster, as the runbook's does.
    pub any_cluster: ConditionId,
    /// Whether `AlarmTopicArn` names a topic; the alarms notify no one if not.
    pub alarm_topic_given: ConditionId,
    pub reconciler: ReconcilerParameters,
}

/// The reconciler's parameters.
pub(super) struct ReconcilerParameters {
    pub code_key: ParameterId,
    pub every_minutes: ParameterId,
    pub grace_minutes: ParameterId,
    pub max_age_minutes: ParameterId,
    pub statuses: ParameterId,
    pub sweep_minutes: ParameterId,
}

fn reconciler(template: &mut Template, config: &Config) -> ReconcilerParameters {
    let reconciler = &config.reconciler;
    let minutes = |description: &str, default: u32| {
        Parameter::number(description)
            .default(default)
            .between(1, 10_080)
    };
    ReconcilerParameters {
        code_key: template.parameter(RECONCILER_CODE_KEY, code_key("the reconciler's")),
        every_minutes: template.parameter(
            TIMING.every.1,
            Parameter::number("Minutes between two reconciler runs.")
                .default(reconciler.every_minutes[0])
                .allowed_values(reconciler.every_minutes),
        ),
        grace_minutes: template.parameter(
            TIMING.grace.1,
            minutes(
                "Minutes a dispatch may stay non-terminal before the reconciler looks at it \
                 (its event may still come). With the schedule's period, under 60: ECS \
                 forgets a stopped task an hour after it stopped.",
                reconciler.default_grace_minutes,
            )
            .between(1, 59),
        ),
        max_age_minutes: template.parameter(
            TIMING.max_age.1,
            minutes(
                "Minutes after which a dispatch whose task ECS no longer knows is closed \
                 FAILED by the reconciler; more than the grace plus the schedule's period.",
                reconciler.default_max_age_minutes,
            ),
        ),
        statuses: template.parameter(
            "ReconcileStatuses",
            Parameter::string(
                "The non-terminal statuses the reconciler examines, comma-separated.",
            )
            .default(contract::env::reconciler::STATUSES.default)
            .allowed_pattern(
                "^[A-Z_]+(,[A-Z_]+)*$",
                "statuses in capitals, comma-separated",
            ),
        ),
        sweep_minutes: template.parameter(
            TIMING.sweep.1,
            minutes(
                "Minutes within which the reconciler's sweep examines every non-terminal \
                 dispatch past the grace once, each run a share; at least the schedule's \
                 period, and under the maximum age less the grace.",
                reconciler.default_sweep_minutes,
            )
            .between(1, 1_440),
        ),
    }
}

/// The parameter that names the zip of `whose` code in the code bucket.
fn code_key(whose: &str) -> Parameter {
    let description = format!("S3 key of {whose} deployment package (zip).");
    Parameter::string(description).allowed_pattern("^.+$", "a non-empty S3 object key")
}

impl Parameters {
    /// The ARN of the one cluster listened to: `ClusterArn`, or the default cluster of the
    /// stack's account and region. (With `ClusterArn=*`, callers match any cluster.)
    pub fn cluster(&self) -> Expr {
        let default = Expr::sub(format!(
            "arn:${{AWS::Partition}}:ecs:${{AWS::Region}}:${{AWS::AccountId}}:cluster/{}",
            resources::DEFAULT_CLUSTER
        ));
        Expr::if_(&self.cluster_arn_given, self.cluster_arn.value(), default)
    }

    /// The clusters the stack watches as one ARN: [`Parameters::cluster`], or
    /// `...:cluster/*` with `ClusterArn=*` (every cluster of the account and region).
    pub fn watched_cluster(&self) -> Expr {
        let every = Expr::sub(
            "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:cluster/*".to_owned(),
        );
        Expr::if_(&self.any_cluster, every, self.cluster())
    }
}

pub(super) fn add(template: &mut Template, config: &Config) -> Parameters {
    let arn_or_empty = |service: &str, resource: &str| {
        format!("^$|^arn:aws[a-z-]*:{service}:[a-z0-9-]+:[0-9]{{12}}:{resource}$")
    };
    let cluster_arn = template.parameter(
        "ClusterArn",
        Parameter::string(format!(
            "ARN of the ECS cluster whose stopped tasks settle dispatches; empty means the \
             {} cluster in this account and region, {ANY_CLUSTER} means every cluster.",
            resources::DEFAULT_CLUSTER
        ))
        .default("")
        .allowed_pattern(
            &format!("^\\{ANY_CLUSTER}$|{}", arn_or_empty("ecs", "cluster/.+")),
            "empty, *, or an ECS cluster ARN",
        ),
    );
    let alarm_topic_arn = template.parameter(
        "AlarmTopicArn",
        Parameter::string(
            "ARN of the SNS topic alarms notify (alarm and OK); empty means no notifications.",
        )
        .default("")
        .allowed_pattern(
            &arn_or_empty("sns", "[A-Za-z0-9_-]+(\\.fifo)?"),
            "empty, or an SNS topic ARN",
        ),
    );
    Parameters {
        architecture: template.parameter(
            ARCHITECTURE,
            Parameter::string("Instruction set of the function's bootstrap binary.")
                .default(config.function.default_architecture.as_str())
                .allowed_values(Architecture::ALL.map(Architecture::as_str)),
        ),
        code_bucket: template.parameter(
            CODE_BUCKET,
            Parameter::string("S3 bucket holding the function's deployment package (zip).")
                .allowed_pattern("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", "an S3 bucket name"),
        ),
        code_key: template.parameter(CODE_KEY, code_key("the function's")),
        worker_container: template.parameter(
            "WorkerContainer",
            Parameter::string("Name of the ECS container whose exit code settles a dispatch.")
                .default(env::WORKER_CONTAINER.default)
                .allowed_pattern("^[A-Za-z0-9_-]{1,255}$", "an ECS container name"),
        ),
        log_retention_days: template.parameter(
            "LogRetentionDays",
            Parameter::number("Days CloudWatch Logs keeps the function's logs.")
                .default(config.default_log_retention_days)
                .allowed_values(LOG_RETENTION_DAYS),
        ),
        cluster_arn_given: template.condition("ClusterArnGiven", Condition::is_set(&cluster_arn)),
        any_cluster: template.condition(
            "AnyCluster",
            Condition::Equals(cluster_arn.value(), Expr::lit(ANY_CLUSTER)),
        ),
        alarm_topic_given: template
            .condition("AlarmTopicGiven", Condition::is_set(&alarm_topic_arn)),
        cluster_arn,
        alarm_topic_arn,
        reconciler: reconciler(template, config),
    }
}
/// The template's parameters, one entry each with its default and description: what
/// `synth parameters` prints.
pub fn listing(template: &Template) -> String {
    let mut help = String::from(
        "Template parameters (give them to `aws cloudformation deploy --parameter-overrides`):\n",
    );
    for (name, parameter) in &template.parameters {
        let default = match &parameter.default {
            None => "required".to_owned(),
            Some(Scalar::String(value)) if value.is_empty() => "default empty".to_owned(),
            Some(Scalar::String(value)) => format!("default {value}"),
            Some(Scalar::Number(value)) => format!("default {value}"),
        };
        let description = &parameter.description;
        help.push_str(&format!("  {name} ({default})\n          {description}\n"));
    }
    help
}

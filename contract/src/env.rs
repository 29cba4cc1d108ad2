//! The function's environment: what the stack sets and the function reads.

use crate::{resources, table};

/// One environment variable and the value the function assumes when it is unset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Var {
    pub name: &'static str,
    pub default: &'static str,
}

impl Var {
    const fn new(name: &'static str, default: &'static str) -> Var {
        Var { name, default }
    }
}

/// The dispatch table.
pub const TABLE_NAME: Var = Var::new("TABLE_NAME", table::NAME);
/// The GSI from task ARN to dispatch.
pub const TASK_ARN_INDEX: Var = Var::new("TASK_ARN_INDEX", table::TASK_ARN_INDEX.name);
/// The container whose exit code decides a dispatch's status.
pub const WORKER_CONTAINER: Var = Var::new("WORKER_CONTAINER", "worker");
/// Where the custom metrics go: one of [`metrics_sink`]'s values.
pub const METRICS_SINK: Var = Var::new("METRICS_SINK", metrics_sink::EMF);

/// Every variable the function reads that the stack sets.
pub const ALL: [Var; 4] = [TABLE_NAME, TASK_ARN_INDEX, WORKER_CONTAINER, METRICS_SINK];

/// The values of [`METRICS_SINK`].
pub mod metrics_sink {
    /// CloudWatch Embedded Metric Format lines on stdout: no network call.
    pub const EMF: &str = "emf";
    /// One `PutMetricData` call per invocation.
    pub const CLOUDWATCH: &str = "cloudwatch";
}

/// Which TLS trust roots the functions' HTTPS connections to AWS use: one of
/// [`tls_roots`]'s values. Both functions read it; the stack does not set it (so it is not in
/// [`ALL`]): an operator sets it on a function whose traffic passes a TLS-inspecting proxy.
pub const TLS_ROOTS: Var = Var::new("TLS_ROOTS", tls_roots::COMPILED);

/// The values of [`TLS_ROOTS`].
pub mod tls_roots {
    /// Mozilla's roots, compiled into the binary: nothing read or parsed at start.
    pub const COMPILED: &str = "compiled";
    /// The system's store (`SSL_CERT_FILE`, `SSL_CERT_DIR`, or the usual places), read and
    /// parsed at start, as before: for a proxy whose CA only that store holds.
    pub const SYSTEM: &str = "system";
}

/// Set by Lambda itself: the function's name, which the metrics carry as a dimension.
pub const LAMBDA_FUNCTION_NAME: Var = Var::new("AWS_LAMBDA_FUNCTION_NAME", resources::FUNCTION);

/// The reconciler's settings, besides [`TABLE_NAME`] and [`WORKER_CONTAINER`].
pub mod reconciler {
    use super::Var;

    /// The index it lists dispatches from, by status and creation time.
    pub const STATUS_INDEX: Var = Var::new("STATUS_INDEX", crate::table::STATUS_INDEX.name);
    /// The non-terminal statuses it examines, comma-separated.
    pub const STATUSES: Var = Var::new("RECONCILE_STATUSES", crate::status::RUNNING);
    /// Minutes between two runs (the schedule's period): the settings are checked against
    /// it.
    pub const EVERY_MINUTES: Var = Var::new("RECONCILE_EVERY_MINUTES", "5");
    /// How old a dispatch must be before it is examined, in minutes: younger ones may
    /// still get their event.
    pub const GRACE_MINUTES: Var = Var::new("GRACE_MINUTES", "10");
    /// How old a dispatch whose task ECS no longer knows must be before it is closed, in
    /// minutes.
    pub const MAX_AGE_MINUTES: Var = Var::new("MAX_AGE_MINUTES", "120");
    /// Minutes within which the sweep examines every non-terminal dispatch past the grace
    /// period once; each run takes its share.
    pub const SWEEP_MINUTES: Var = Var::new("SWEEP_MINUTES", "60");
    /// The table where the sweep keeps its place between runs.
    pub const SWEEP_TABLE: Var = Var::new("SWEEP_TABLE", crate::table::sweep::NAME);

    /// The clusters whose tasks it reads, as one cluster ARN: `...:cluster/NAME`, or
    /// `...:cluster/*` for every cluster of the stack's account and region. The stack sets
    /// it from `ClusterArn`. No default: a task is only ever asked of the region, account
    /// and cluster the stack watches, and a guess at them would close foreign tasks.
    pub const WATCHED_CLUSTER: Var = Var::new("WATCHED_CLUSTER", "");
    /// The four timing settings together, in minutes: the reconciler refuses to start on
    /// a contradiction, and `synth env check` refuses an environment file with one.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Timing {
        pub every: i64,
        pub grace: i64,
        pub sweep: i64,
        pub max_age: i64,
    }

    /// Settings that could hide a loss: the setting at fault, the others it is held
    /// against, and what it must be.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Contradiction {
        pub var: Var,
        pub value: i64,
        pub with: Vec<(Var, i64)>,
        pub expected: &'static str,
    }

    /// How long ECS remembers a stopped task, in minutes.
    pub const ECS_MEMORY_MINUTES: i64 = 60;

    impl Timing {
        /// The first contradiction, if any. A stop is read from ECS at the first run past
        /// the grace period, at most grace plus one period after it: ECS must still
        /// remember it then. The sweep cannot come round faster than the schedule. And a
        /// dispatch closed as "ECS no longer knows" must be older than the grace plus one
        /// sweep, so that the sweep asked ECS about it in time.
        pub fn contradiction(&self) -> Option<Contradiction> {
            let Timing {
                every,
                grace,
                sweep,
                max_age,
            } = *self;
            if grace + every >= ECS_MEMORY_MINUTES {
                return Some(Contradiction {
                    var: GRACE_MINUTES,
                    value: grace,
                    with: vec![(EVERY_MINUTES, every)],
                    expected: "a grace plus schedule period under 60 minutes: ECS forgets a \
                               stopped task an hour after it stopped, and the reconciler \
                               reads stops from ECS",
                });
            }
            if sweep < every {
                return Some(Contradiction {
                    var: SWEEP_MINUTES,
                    value: sweep,
                    with: vec![(EVERY_MINUTES, every)],
                    expected: "a sweep period at least the schedule's: each run walks a \
                               share of it",
                });
            }
            if max_age <= grace + sweep {
                return Some(Contradiction {
                    var: MAX_AGE_MINUTES,
                    value: max_age,
                    with: vec![(GRACE_MINUTES, grace), (SWEEP_MINUTES, sweep)],
                    expected: "more than the grace plus the sweep period: a dispatch is \
                               only closed as forgotten once the sweep had the time to ask \
                               ECS about it",
                });
            }
            None
        }
    }

    pub const ALL: [Var; 8] = [
        WATCHED_CLUSTER,
        EVERY_MINUTES,
        STATUS_INDEX,
        STATUSES,
        GRACE_MINUTES,
        MAX_AGE_MINUTES,
        SWEEP_MINUTES,
        SWEEP_TABLE,
    ];
}

//! The system run itself: the stack deployed into moto, the ECS stand-in on the run's
//! clock, the real callback under the local Runtime API (Lambda's retries, its failures
//! parked in the failure queue as Lambda's on-failure destination parks them), the real
//! reconciler invoked on the schedule with the schedule's time, and the real
//! `outpost-ops replay`, whose accepted invokes are delivered to the callback. Fleet time
//! moves a minute a step; a step does only what falls in it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};
use contract::resources::{FAILURE_QUEUE, FUNCTION, RECONCILER};
use contract::table::attr;
use dispatch::record::DispatchRecord;
use dispatch_aws::sdk::Caller;
use serde_json::{json, Value};

use super::check::{self, Seen};
use super::plan::{self, Delivery, Job, Knobs, Naming};
use crate::ecs_api::{Fleet, Stop, Task};
use crate::faults::{Chaos, Fault, FaultProxy};
use crate::reliability::STATUS_TABLE;
use crate::runtime::{FunctionProcess, Output, RuntimeApi};
use crate::stack::LocalStack;

/// Fleet time at the run's minute 0.
pub const START: &str = "2026-01-15T12:00:00Z";
/// How many environments the callback runs in at once. Lambda scales an asynchronous
/// backlog out to many; here each failing delivery of the outage spends seconds in the
/// SDK's backoff, so the backlog's drain is bound by how many run at once.
const CALLBACK_ENVIRONMENTS: usize = 16;
/// DynamoDB's operations, among the requests moto counts.
const DYNAMODB: [&str; 7] = [
    "Query",
    "UpdateItem",
    "GetItem",
    "PutItem",
    "BatchGetItem",
    "BatchWriteItem",
    "Scan",
];
/// The cluster the stack watches (its default).
const CLUSTER: &str = contract::resources::DEFAULT_CLUSTER;

/// The reconciler's settings as the stack deploys them (the template's defaults).
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    pub every: i64,
    pub grace: i64,
    pub sweep: i64,
    pub max_age: i64,
}

impl Schedule {
    fn of_template() -> Schedule {
        let env = crate::template::environment_of(RECONCILER);
        let minutes = |var: contract::env::Var| -> i64 {
            env.get(var.name)
                .and_then(|value| value.parse().ok())
                .unwrap_or_else(|| panic!("the template sets {}", var.name))
        };
        use contract::env::reconciler as vars;
        Schedule {
            every: minutes(vars::EVERY_MINUTES),
            grace: minutes(vars::GRACE_MINUTES),
            sweep: minutes(vars::SWEEP_MINUTES),
            max_age: minutes(vars::MAX_AGE_MINUTES),
        }
    }
}

/// Whether the reconciler is scheduled at all (a run without it shows what is left
/// behind).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reconciler {
    Scheduled,
    Never,
}

/// Runs the fleet `knobs` draws through the whole system and checks what it ends as.
pub async fn run(knobs: &Knobs, reconciler: Reconciler) -> check::Report {
    let started = Instant::now();
    let jobs = plan::fleet(knobs);
    let schedule = Schedule::of_template();
    let mut world = World::start(knobs).await;
    let last_stop = jobs.iter().map(Job::stops_at).max().unwrap_or(0);
    // Long enough for every promise to come due: the latest event, and the sweep past
    // the maximum age of the last dispatch.
    let end = last_stop + schedule.max_age + schedule.sweep + 2 * schedule.every + 90;
    let mut seen = Seen::default();
    let mut due = due_by_minute(&jobs);
    let replay_at = knobs.outage.map(|outage| outage.end() + knobs.replay_after);
    for minute in 0..=end {
        if minute % 60 == 0 {
            // A long run says where it is, an hour of fleet time at a time.
            eprintln!(
                "system run: fleet minute {minute} of {end}, {} deliveries, {} reconciler runs, {:.0} s",
                seen.deliveries,
                seen.runs.len(),
                started.elapsed().as_secs_f64()
            );
        }
        world.fleet.advance_to(minute);
        world
            .set_outage(
                knobs.outage.is_some_and(|w| w.holds(minute)),
                knobs,
                &mut seen,
            )
            .await;
        // A stop puts its event's on-time delivery in this same minute: take until empty.
        while let Some(items) = due.remove(&minute) {
            let mut events = Vec::new();
            for item in items {
                match item {
                    Due::Launch(job) => world.launch(job, &mut seen).await,
                    Due::NameTask(job) => world.name_task(job, &seen).await,
                    Due::Stop(job) => {
                        let disabled = knobs.rule_disabled.is_some_and(|w| w.holds(minute));
                        for (at, delivery) in world.stop(job, disabled, &mut seen) {
                            due.entry(at).or_default().push(delivery);
                        }
                    }
                    Due::Event { job, event, late } => events.push((job, event, late)),
                }
            }
            world.deliver(events, minute);
        }
        world.note_finished(&mut seen, Wait::No).await;
        let in_outage = knobs.outage.is_some_and(|w| w.holds(minute));
        world.set_ecs_failing(knobs.ecs_failing.is_some_and(|w| w.holds(minute)));
        if reconciler == Reconciler::Scheduled && minute % schedule.every == 0 && !in_outage {
            // A run reads what the deliveries before it wrote, as it would on AWS, where
            // they take milliseconds, not the minutes a held request takes here.
            world.note_finished(&mut seen, Wait::All).await;
            world.reconcile(minute, &mut seen).await;
        }
        if Some(minute) == replay_at {
            world.note_finished(&mut seen, Wait::All).await;
            world.replay(minute, &mut seen).await;
        }
    }
    // What an operator does once the alarms are quiet: replay what is still parked.
    world.note_finished(&mut seen, Wait::All).await;
    world.replay(end, &mut seen).await;
    let records = world.records().await;
    let requests = world.requests();
    let outputs = world.stop_functions().await;
    check::check(check::Inputs {
        knobs,
        jobs: &jobs,
        schedule,
        reconciler,
        seen,
        records,
        outputs,
        requests,
        elapsed: started.elapsed(),
    })
}

/// Each job's launch, naming and stop, by the minute each falls due.
fn due_by_minute(jobs: &[Job]) -> BTreeMap<i64, Vec<Due<'_>>> {
    let mut due: BTreeMap<i64, Vec<Due>> = BTreeMap::new();
    for job in jobs {
        due.entry(job.launch_at).or_default().push(Due::Launch(job));
        if job.arn_after > 0 {
            let at = job.launch_at + job.arn_after;
            due.entry(at).or_default().push(Due::NameTask(job));
        }
        due.entry(job.stops_at()).or_default().push(Due::Stop(job));
    }
    due
}

/// What falls due at a minute.
enum Due<'a> {
    Launch(&'a Job),
    /// The control plane writes the task ARN it launched into the record.
    NameTask(&'a Job),
    Stop(&'a Job),
    Event {
        job: &'a Job,
        event: Value,
        late: bool,
    },
}

/// One delivery under way: the dispatch it is for (none for a replayed event, counted
/// parked already), its event, and when and by which path it was made.
struct InFlight {
    dispatch: Option<String>,
    event: Value,
    at: (i64, check::Path),
}

/// Whether [`World::note_finished`] waits for the deliveries still under way.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wait {
    No,
    All,
}

/// Everything the run talks to.
struct World {
    stack: LocalStack,
    /// The callback's door to moto, with the run's faults.
    proxy: FaultProxy,
    reconciler_proxy: FaultProxy,
    fleet: Fleet,
    _served: crate::ecs_api::Served,
    callback_api: Arc<RuntimeApi>,
    /// Several environments, as Lambda runs a busy function on several.
    callbacks: Vec<FunctionProcess>,
    reconciler_api: RuntimeApi,
    reconciler: FunctionProcess,
    dynamodb: aws_sdk_dynamodb::Client,
    sqs: aws_sdk_sqs::Client,
    failure_queue: String,
    retries: u32,
    /// The stand-in's invokes already delivered to the callback.
    invokes_delivered: usize,
    /// Deliveries under way. Lambda's retries take their time here (a held request waits
    /// out the SDK's attempt timeout), so fleet minutes go on while they run; the run
    /// waits for them only before what reads what they wrote: a reconciler run, a replay,
    /// the outage's edges, the end.
    in_flight: tokio::task::JoinSet<(InFlight, crate::runtime::Delivery)>,
    chaos: Chaos,
    outage: bool,
    ecs_failing: bool,
}

impl World {
    async fn start(knobs: &Knobs) -> World {
        let stack = LocalStack::deploy().await;
        let hold = dispatch_aws::sdk::ATTEMPT_TIMEOUT + std::time::Duration::from_millis(500);
        let proxy = FaultProxy::start(&stack.server, hold)
            .await
            .expect("start the fault proxy");
        let chaos = Chaos::new(knobs.seed, knobs.dynamodb_faults, &["UpdateItem", "Query"]);
        proxy.chaos(chaos.clone());
        // The reconciler's own door to moto, without faults: its requests, counted apart.
        let reconciler_proxy = FaultProxy::start(&stack.server, hold)
            .await
            .expect("start the reconciler's proxy");
        let (fleet, served) = ecs_stand_in(knobs);
        // Count from here: the deploy's own requests are not the system's.
        stack.server.request_counts(true);
        let quiet = [("AWS_LAMBDA_LOG_LEVEL".to_owned(), "WARN".to_owned())];
        let callback_env: Vec<(String, String)> = crate::template::function_environment()
            .into_iter()
            .chain(proxy.env(&stack.server))
            .chain(quiet.clone())
            .collect();
        let callback_api = Arc::new(RuntimeApi::start(FUNCTION).expect("a Runtime API"));
        let callbacks = (0..CALLBACK_ENVIRONMENTS)
            .map(|_| spawn("bootstrap", &callback_api, &callback_env))
            .collect();
        let reconciler_env: Vec<(String, String)> = crate::template::environment_of(RECONCILER)
            .into_iter()
            .chain(reconciler_proxy.env(&stack.server))
            .chain([("AWS_ENDPOINT_URL_ECS".to_owned(), served.endpoint.clone())])
            .chain(quiet)
            .collect();
        // The deployed reconciler's timeout: how much a run may do is part of what is
        // checked (the backlog after an outage).
        let timeout = crate::template::timeout_of(RECONCILER);
        let reconciler_api =
            RuntimeApi::start_with_timeout(RECONCILER, timeout).expect("a Runtime API");
        let reconciler = spawn("reconciler", &reconciler_api, &reconciler_env);
        let config = stack
            .loader(dispatch_aws::sdk::loader(Caller::Lambda))
            .load()
            .await;
        let sqs = aws_sdk_sqs::Client::new(&config);
        let failure_queue = sqs
            .get_queue_url()
            .queue_name(FAILURE_QUEUE)
            .send()
            .await
            .expect("the failure queue")
            .queue_url
            .expect("a queue URL");
        World {
            proxy,
            reconciler_proxy,
            fleet,
            _served: served,
            callback_api,
            callbacks,
            reconciler_api,
            reconciler,
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            sqs,
            failure_queue,
            retries: crate::template::async_retry_attempts(FUNCTION),
            invokes_delivered: 0,
            in_flight: tokio::task::JoinSet::new(),
            chaos,
            outage: false,
            ecs_failing: false,
            stack,
        }
    }

    /// During the outage every DynamoDB request of the callback fails before it reaches
    /// the table; outside it, the run's seeded faults. Deliveries made before an edge
    /// meet the faults of their side of it.
    async fn set_outage(&mut self, outage: bool, knobs: &Knobs, seen: &mut Seen) {
        if outage == self.outage {
            return;
        }
        self.note_finished(seen, Wait::All).await;
        self.outage = outage;
        let chaos = if outage {
            Chaos {
                seed: knobs.seed,
                rates: ["UpdateItem", "Query", "GetItem"]
                    .into_iter()
                    .map(|operation| (operation.to_owned(), 1.0))
                    .collect(),
                kinds: vec![Fault::ServerError, Fault::Throttling],
            }
        } else {
            self.chaos.clone()
        };
        self.proxy.chaos(chaos);
    }

    /// While ECS fails, every question about the watched cluster is answered with a
    /// server error (the runs count what they could not check, and the next run reads the
    /// stops again).
    fn set_ecs_failing(&mut self, failing: bool) {
        if failing != self.ecs_failing {
            self.ecs_failing = failing;
            self.fleet.fail_cluster_while(CLUSTER, failing);
        }
    }

    /// Launches the job's task and writes its record as the control plane does: named at
    /// once, or, in the launch race, without its task ARN (written `arn_after` later).
    async fn launch(&self, job: &Job, seen: &mut Seen) {
        let id = job.dispatch_id.clone();
        let mut task = Task {
            started_at: Some(self.fleet.now()),
            ..Task::unnamed(CLUSTER, &id)
        };
        match job.naming {
            Naming::Environment => {
                task.environment = vec![(contract::dispatch_id::ENV_NAME.to_owned(), id.clone())]
            }
            Naming::Group => {
                task.group = Some(format!("{}{id}", contract::dispatch_id::GROUP_PREFIX))
            }
            Naming::Tag => {
                task.tags = vec![(contract::dispatch_id::TAG_KEY.to_owned(), id.clone())]
            }
            Naming::IndexOnly => {}
        }
        let arn = self.fleet.launch(task);
        let created = dispatch::timefmt::record_timestamp(self.fleet.now());
        let (status, named) = match job.arn_after {
            0 => (contract::status::RUNNING, Some(arn.as_str())),
            _ => ("PENDING", None),
        };
        let record = crate::table::launched(&id, status, named, &created);
        self.dynamodb
            .put_item()
            .table_name(contract::table::NAME)
            .set_item(Some(dispatch_aws::item::item(&record)))
            .send()
            .await
            .expect("the control plane writes the record");
        seen.tasks.insert(id, arn);
    }

    /// The control plane names the task in the record, if nothing settled it meanwhile.
    async fn name_task(&self, job: &Job, seen: &Seen) {
        let arn = &seen.tasks[&job.dispatch_id];
        let written = self
            .dynamodb
            .update_item()
            .table_name(contract::table::NAME)
            .key(
                attr::DISPATCH_ID,
                AttributeValue::S(job.dispatch_id.clone()),
            )
            .update_expression("SET #task = :task, #status = :running")
            .condition_expression("#status = :pending")
            .expression_attribute_names("#task", attr::TASK_ARN)
            .expression_attribute_names("#status", attr::STATUS)
            .expression_attribute_values(":task", AttributeValue::S(arn.clone()))
            .expression_attribute_values(":running", AttributeValue::S("RUNNING".into()))
            .expression_attribute_values(":pending", AttributeValue::S("PENDING".into()))
            .send()
            .await;
        if let Err(err) = written {
            let refused = err
                .as_service_error()
                .is_some_and(|e| e.is_conditional_check_failed_exception());
            assert!(refused, "the control plane's write: {err:?}");
        }
    }

    /// Stops the job's task as its status-table row says, and returns its event's
    /// deliveries, by minute (none when the rule is disabled or the event is dropped).
    fn stop<'a>(&self, job: &'a Job, rule_disabled: bool, seen: &mut Seen) -> Vec<(i64, Due<'a>)> {
        let (stop_code, reason, exit_code, _) = STATUS_TABLE[job.stop];
        let worker = contract::env::WORKER_CONTAINER.default.to_owned();
        let stop = Stop {
            stop_code: stop_code.to_owned(),
            stopped_reason: reason.to_owned(),
            exit_codes: exit_code.map(|code| (worker, code)).into_iter().collect(),
        };
        let arn = &seen.tasks[&job.dispatch_id];
        self.fleet.stop(arn, &stop);
        let minute = job.stops_at();
        seen.stopped.insert(job.dispatch_id.clone(), minute);
        if rule_disabled {
            seen.rule_disabled += 1;
            return Vec::new();
        }
        let event = self.fleet.event(arn, None).expect("the task is known");
        let stopped = |at: i64, late: bool| {
            let event = event.clone();
            (at, Due::Event { job, event, late })
        };
        match job.delivery {
            Delivery::OnTime => vec![stopped(minute, false)],
            Delivery::Dropped => Vec::new(),
            Delivery::Twice => vec![stopped(minute, false), stopped(minute + 1, false)],
            Delivery::Late(by) => vec![stopped(minute + by, true)],
            Delivery::RunningAfter => {
                let running = self.fleet.event(arn, Some("RUNNING")).expect("known");
                let late_running = Due::Event {
                    job,
                    event: running,
                    late: true,
                };
                vec![stopped(minute, false), (minute + 1, late_running)]
            }
        }
    }

    /// Starts delivering a minute's events as EventBridge does, at once (Lambda runs them
    /// on as many environments as it has), each asynchronously with Lambda's retries after
    /// a failure. [`World::note_finished`] notes each outcome and parks what every attempt
    /// failed.
    fn deliver(&mut self, events: Vec<(&Job, Value, bool)>, minute: i64) {
        for (job, event, late) in events {
            let path = if late {
                check::Path::LateEvent
            } else {
                check::Path::Event
            };
            let delivery = InFlight {
                dispatch: Some(job.dispatch_id.clone()),
                event,
                at: (minute, path),
            };
            self.start_delivery(delivery);
        }
    }

    fn start_delivery(&mut self, delivery: InFlight) {
        let (api, retries) = (Arc::clone(&self.callback_api), self.retries);
        self.in_flight.spawn(async move {
            let outcome = api.invoke_async(delivery.event.clone(), retries).await;
            (delivery, outcome)
        });
    }

    /// Notes the deliveries that have finished (with [`Wait::All`], every one, waiting
    /// for those under way), parking the events every attempt failed as Lambda's
    /// on-failure destination parks them.
    async fn note_finished(&mut self, seen: &mut Seen, wait: Wait) {
        loop {
            let finished = match wait {
                Wait::No => self.in_flight.try_join_next(),
                Wait::All => self.in_flight.join_next().await,
            };
            let Some(finished) = finished else {
                if wait == Wait::All {
                    // A held request lands after its client gave up on it: on AWS within
                    // the same moment, here seconds later. What reads the table next
                    // reads it after them.
                    self.proxy.quiet().await;
                }
                return;
            };
            let (delivery, outcome) = finished.expect("a delivery neither panics nor is cancelled");
            self.note_delivery(delivery, outcome, seen).await;
        }
    }

    /// Notes one delivery's outcome; parks its event when every attempt failed (counting
    /// it parked for its dispatch).
    async fn note_delivery(
        &self,
        InFlight {
            dispatch,
            event,
            at,
        }: InFlight,
        delivery: crate::runtime::Delivery,
        seen: &mut Seen,
    ) {
        seen.requests.insert(delivery.request_id.clone(), at);
        seen.deliveries += delivery.attempts.len();
        seen.failed_attempts += delivery.errors().count() as u64;
        match delivery.response() {
            Some(answer) => seen.note_answer(answer),
            None => {
                let error = delivery.errors().last().map(ToString::to_string);
                let record = failure_record(&event, &delivery.request_id, error.as_deref());
                self.sqs
                    .send_message()
                    .queue_url(&self.failure_queue)
                    .message_body(record.to_string())
                    .send()
                    .await
                    .expect("park the event");
                seen.parked.extend(dispatch);
            }
        }
    }

    /// One scheduled run of the reconciler, at the schedule's time.
    async fn reconcile(&self, minute: i64, seen: &mut Seen) {
        let time = self.fleet.now().to_rfc3339();
        let scheduled = json!({"version": "0", "id": crate::request_id(), "source": "aws.events",
            "detail-type": "Scheduled Event", "time": time, "detail": {}});
        let run = self.reconciler_api.invoke_async(scheduled, 0).await;
        seen.requests
            .insert(run.request_id.clone(), (minute, check::Path::Reconciler));
        seen.runs.push(minute);
        match run.response() {
            Some(report) => seen.note_run(report),
            None => seen
                .failed_runs
                .push((minute, format!("{:?}", run.attempts))),
        }
    }

    /// `outpost-ops replay` of the failure queue, then each invoke Lambda accepted,
    /// delivered to the callback.
    async fn replay(&mut self, minute: i64, seen: &mut Seen) {
        // What was replayed shows in the invokes Lambda accepted; a message it refused
        // stays parked, and the last replay tries it again.
        std::process::Command::new(crate::function_binary("outpost-ops"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(self.stack.env())
            .args(["--output", "json", "replay", "--max", "100000"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run outpost-ops replay");
        let invocations = self.stack.stand_in.invocations();
        let accepted: Vec<Value> = invocations[self.invokes_delivered..]
            .iter()
            .filter(|invocation| invocation.accepted && names_callback(&invocation.function))
            .map(|invocation| invocation.payload.clone())
            .collect();
        self.invokes_delivered = invocations.len();
        for event in accepted {
            // A replayed event is the same dispatch's: it was counted parked already.
            self.start_delivery(InFlight {
                dispatch: None,
                event,
                at: (minute, check::Path::Replay),
            });
        }
        self.note_finished(seen, Wait::All).await;
    }

    /// Every record of the table, by dispatch ID.
    async fn records(&self) -> HashMap<String, DispatchRecord> {
        let mut records = HashMap::new();
        let mut start = None;
        loop {
            let page = self
                .dynamodb
                .scan()
                .table_name(contract::table::NAME)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .expect("scan the table");
            for record in page.items().iter().filter_map(dispatch_aws::item::record) {
                records.insert(record.dispatch_id.clone(), record);
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return records,
            }
        }
    }

    async fn stop_functions(self) -> check::Outputs {
        let mut callback = Vec::new();
        for process in self.callbacks {
            callback.extend(process.stop().await.1);
        }
        let (_, reconciler) = self.reconciler.stop().await;
        check::Outputs {
            callback,
            reconciler,
        }
    }

    fn requests(&self) -> BTreeMap<String, u64> {
        let mut requests: BTreeMap<String, u64> = BTreeMap::new();
        for (operation, count) in self.fleet.calls() {
            *requests.entry(format!("ECS {operation}")).or_default() += count;
        }
        for (proxy, whose) in [
            (&self.proxy, "callback"),
            (&self.reconciler_proxy, "reconciler"),
        ] {
            for (operation, count) in &proxy.counts().requests {
                *requests
                    .entry(format!("DynamoDB {operation} ({whose})"))
                    .or_default() += count;
            }
        }
        // Everything moto served since the deploy: the callback's and the reconciler's
        // requests, and the control plane's writes and the run's own reads.
        let served = self.stack.server.request_counts(false);
        let served = served.as_object().into_iter().flatten();
        for (operation, count) in served.filter(|(op, _)| DYNAMODB.contains(&op.as_str())) {
            let count = count.as_u64().unwrap_or(0);
            *requests
                .entry(format!("DynamoDB {operation} (all)"))
                .or_default() += count;
        }
        requests
    }
}

/// The ECS stand-in on the run's clock, with the watched cluster and the run's
/// throttling, served on loopback.
fn ecs_stand_in(knobs: &Knobs) -> (Fleet, crate::ecs_api::Served) {
    let start: DateTime<Utc> = START.parse().expect("a time");
    let fleet = Fleet::new(crate::server::REGION, crate::server::ACCOUNT, start);
    fleet.create_cluster(CLUSTER);
    if knobs.ecs_throttle_every > 0 {
        fleet.throttle("ListTasks", knobs.ecs_throttle_every);
        fleet.throttle("DescribeTasks", knobs.ecs_throttle_every);
    }
    let served = fleet.serve().expect("serve the ECS stand-in");
    (fleet, served)
}

/// Starts the function binary `binary` under `api` with `env`, its output kept.
fn spawn(binary: &str, api: &RuntimeApi, env: &[(String, String)]) -> FunctionProcess {
    FunctionProcess::spawn(&crate::function_binary(binary), api, env, Output::Capture)
        .unwrap_or_else(|err| panic!("start {binary}: {err}"))
}

/// Whether an invoked function (a name, or an ARN with its qualifier, as a failure record
/// names it) is the callback.
fn names_callback(function: &str) -> bool {
    function == FUNCTION || function.contains(&format!("function:{FUNCTION}"))
}

/// Lambda's on-failure destination record around `event`, as Lambda writes it when every
/// delivery failed.
fn failure_record(event: &Value, request_id: &str, error: Option<&str>) -> Value {
    json!({
        "version": "1.0",
        "timestamp": Utc::now().to_rfc3339(),
        "requestContext": {
            "requestId": request_id,
            "functionArn": format!("arn:aws:lambda:{}:{}:function:{FUNCTION}:$LATEST",
                crate::server::REGION, crate::server::ACCOUNT),
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorType": "Unhandled", "errorMessage": error.unwrap_or("failed")}
    })
}

impl Fleet {
    /// Moves the clock to the run's `minute`.
    fn advance_to(&self, minute: i64) {
        let start: DateTime<Utc> = START.parse().expect("a time");
        let target = start + Duration::minutes(minute);
        let now = self.now();
        if target > now {
            self.advance(target - now);
        }
    }
}

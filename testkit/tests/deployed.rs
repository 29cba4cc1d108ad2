//! What the templates deploy: the bootstrap stack and the system's stack, deployed into an
//! empty moto through the path of an account (`scripts/bootstrap.sh`, then
//! `scripts/deploy.sh`, which runs `aws cloudformation deploy`; `testkit::stack`), then:
//!
//! 1. every resource the runbook's read-only commands look at, compared with the template
//!    that declared it (the runbook's own AWS CLI commands, as on-call runs them);
//! 2. a second run of both scripts, which must upload nothing and change nothing;
//! 3. `make plan` and `make deploy` given a change that removes the table and every queue
//!    and log group (the system's stack given the bootstrap template): the plan flags it
//!    and exits 1, the deploy refuses it without `YES=1`, and the stack is unchanged;
//! 4. the deployed stack's protection: its stack policy (stored by moto, which does not
//!    enforce it) and termination protection (which moto lacks: the stand-in answers as
//!    CloudFormation does, and refuses the stack's deletion); a deploy that lifts the
//!    policy and is refused puts it back;
//! 5. deploys by name (`make deploy ENV=name`, environments/NAME.json): the stack gets
//!    exactly the file's settings, a one-off override shows in the plan, and a file of
//!    another account, or with a key the template does not take, is refused before
//!    anything is uploaded or changed; `make drift` names the settings changed out of band
//!    (exit 1), finds nothing right after a deploy (exit 0), and names a resource drift
//!    detection finds (moto has none: the stand-in answers as CloudFormation does);
//! 6. `make adopt`'s dry run against the deployed resources, which carry the runbook's
//!    names: its pre-checks run for real (refusing the table while moto leaves its
//!    point-in-time recovery off, then passing), and it prints, never runs, the import and
//!    the old function's retirement; an existing stack is refused first of all;
//! 7. `make adopt`'s last step alone (`CHECK_ONLY=1`), for real: a test dispatch settled
//!    by the function's real binary (the stand-in hands it the AWS CLI's invoke), and its
//!    record removed when the check passes, when its invoke fails and when the dispatch is
//!    left unsettled.
//!
//! One deploy serves all seven, in this order: a deploy costs more than all the checks on
//! a 2-core machine, and each step acts on what the ones before it left (the dry run
//! needs the deployed resources under the runbook's names, and turns recovery on).
//!
//! moto 5 applies only a bucket's encryption from a template, and not the table's
//! point-in-time recovery, alarms, async invoke configs or queue policies: those are
//! checked on the template, by synth's tests, cfn-lint and checkov.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use contract::outputs::{self, Output};
use contract::resources::{BOOTSTRAP_STACK, STACK};
use dispatch::dispatch_id;
use dispatch::event::{classify, Classified};
use serde_json::Value;
use synth::adopt::precheck::{compare, Aspect, TableShape};
use synth::adopt::test_record::{self, NotSettled};
use synth::names::Name;
use testkit::runtime::{self, FunctionProcess, RuntimeApi};
use testkit::server::Server;
use testkit::stack::LocalStack;
use testkit::stand_in::{ResourceDrift, StandIn};

#[tokio::test(flavor = "multi_thread")]
async fn the_templates_deploy_as_written_and_the_scripts_guard_the_data() {
    let stack = LocalStack::deploy().await;
    let shell = Shell {
        server: &stack.server,
        cloudformation: stack.stand_in.endpoint(),
    };
    let templates = Templates::synthesized();

    every_resource_is_its_templates(&shell, &templates);
    a_second_run_uploads_nothing_and_changes_nothing(&shell);
    the_yaml_and_a_large_template_deploy_as_the_json(&shell);
    the_stack_is_protected(&shell);
    environments_deploy_by_name_and_refuse_the_wrong_account(&shell, &stack.stand_in);
    a_change_that_removes_data_is_flagged_and_refused(&shell);
    the_adoption_dry_run_checks_the_running_table_and_changes_nothing(&shell, &templates);
    the_adoptions_check_settles_a_test_dispatch_and_leaves_no_record(&shell, &stack, &templates);
}

/// The two templates, as synth renders them (the committed files are the same bytes:
/// synth's `templates` test).
struct Templates {
    stack: Value,
    bootstrap: Value,
}

impl Templates {
    fn synthesized() -> Templates {
        Templates {
            stack: testkit::template::stack(),
            bootstrap: serde_json::from_str(&synth::render_bootstrap())
                .expect("the bootstrap template is JSON"),
        }
    }

    fn properties(&self, logical_id: &str) -> &Value {
        let properties = &self.stack["Resources"][logical_id]["Properties"];
        assert!(properties.is_object(), "the template has no {logical_id}");
        properties
    }

    /// A parameter's default, as a deploy that does not set it uses it.
    fn default_of(&self, parameter: &str) -> &Value {
        &self.stack["Parameters"][parameter]["Default"]
    }

    fn name(&self, name: Name) -> String {
        name.value(&self.stack)
    }

    /// The name a resource the stack outputs carries in the template (`property`).
    fn name_of(&self, output: Output, property: &str) -> String {
        self.properties(output.logical_id)[property]
            .as_str()
            .unwrap_or_else(|| panic!("{} has no {property}", output.logical_id))
            .to_owned()
    }
}

/// Runs the AWS CLI and the scripts against the stack's moto, as a person's shell would,
/// with none of the person's AWS configuration or deployment settings.
struct Shell<'a> {
    server: &'a Server,
    /// Where CloudFormation is asked: the stand-in in front of moto, which has the
    /// termination protection moto 5.2.1 lacks (AWS-shaped answers).
    cloudformation: &'a str,
}

/// A script's exit code and what it printed, standard output and error interleaved as a
/// terminal shows them.
struct Ran {
    code: i32,
    output: String,
}

impl Shell<'_> {
    fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(testkit::repo_root())
            .envs(self.server.env())
            .env("AWS_ENDPOINT_URL_CLOUDFORMATION", self.cloudformation)
            .envs([
                ("AWS_PAGER", ""),
                ("AWS_CONFIG_FILE", "/dev/null"),
                ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
            ])
            .stdin(Stdio::null());
        for setting in [
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_CLI",
            "STACK_NAME",
            "BOOTSTRAP_STACK_NAME",
            "TEMPLATE",
            "BOOTSTRAP_TEMPLATE",
            "ARTIFACT_BUCKET",
            "ARCH",
            "ZIP",
            "RECONCILER_ZIP",
            "CLUSTER_ARN",
            "ALARM_TOPIC_ARN",
            "ENV",
            "ENVIRONMENTS_DIR",
            "LIFT_STACK_POLICY",
            "DRY_RUN",
            "CHECK_ONLY",
            "YES",
        ] {
            command.env_remove(setting);
        }
        command
    }

    /// `aws ARGS --output json`, or its error output.
    fn try_aws(&self, args: &[&str]) -> Result<Value, String> {
        self.try_aws_at(self.server.endpoint(), args)
    }

    /// `aws ARGS --output json` asked of CloudFormation as the scripts ask it.
    fn try_cloudformation(&self, args: &[&str]) -> Result<Value, String> {
        let mut all = vec!["cloudformation"];
        all.extend_from_slice(args);
        self.try_aws_at(self.cloudformation, &all)
    }

    fn try_aws_at(&self, endpoint: &str, args: &[&str]) -> Result<Value, String> {
        // awscli v1 pins SQS to its legacy endpoint and ignores AWS_ENDPOINT_URL for it,
        // so every call names the endpoint.
        let output = self
            .command(testkit::repo_root().join(".venv/tools/bin/aws"))
            .args(args)
            .args(["--output", "json", "--endpoint-url", endpoint])
            .output()
            .expect("run the AWS CLI (make tools installs it)");
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).into_owned());
        }
        let text = String::from_utf8_lossy(&output.stdout);
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|err| format!("aws {args:?} printed no JSON: {err}"))
    }

    /// `aws ARGS --output json`, which must succeed.
    fn aws(&self, args: &[&str]) -> Value {
        self.try_aws(args)
            .unwrap_or_else(|err| panic!("aws {args:?} failed: {err}"))
    }

    /// Runs `script` (a path under the repository) with `settings`, with no terminal.
    fn script(&self, script: &str, settings: &[(&str, &str)]) -> Ran {
        let output = self
            .command("bash")
            .args(["-c", r#"exec "$@" 2>&1"#, "bash"])
            .arg(testkit::repo_root().join(script))
            .envs(settings.iter().copied())
            .output()
            .unwrap_or_else(|err| panic!("run {script}: {err}"));
        let ran = Ran {
            code: output.status.code().expect("the script exited"),
            output: String::from_utf8_lossy(&output.stdout).into_owned(),
        };
        for line in ran.output.lines() {
            println!("  | {line}");
        }
        ran
    }

    /// The physical ID of one of a stack's resources (moto leaves a stack's outputs empty
    /// after a change-set deploy, and its resource list is right).
    fn resource(&self, stack: &str, logical_id: &str) -> String {
        self.resources(stack)
            .into_iter()
            .find(|resource| resource["LogicalResourceId"] == logical_id)
            .and_then(|resource| resource["PhysicalResourceId"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("stack {stack} has no {logical_id}"))
    }

    fn resource_count(&self, stack: &str) -> usize {
        self.resources(stack).len()
    }

    /// The stack's resource summaries, as `list-stack-resources` gives them.
    fn resources(&self, stack: &str) -> Vec<Value> {
        let listed = self.aws(&[
            "cloudformation",
            "list-stack-resources",
            "--stack-name",
            stack,
        ]);
        listed["StackResourceSummaries"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

/// One comparison: what the template says, and what AWS answers.
struct Same {
    label: String,
    template: Value,
    deployed: Value,
}

fn same(label: impl Into<String>, template: impl Into<Value>, deployed: impl Into<Value>) -> Same {
    Same {
        label: label.into(),
        template: template.into(),
        deployed: deployed.into(),
    }
}

/// Prints every comparison, and fails listing each one that differs.
fn all_same(checks: Vec<Same>) {
    let mut differ = Vec::new();
    for check in checks {
        if check.template == check.deployed {
            println!("  ok: {} = {}", check.label, check.deployed);
        } else {
            differ.push(format!(
                "{}: the template says {}, AWS has {}",
                check.label, check.template, check.deployed
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// An array's string members, sorted.
fn sorted_strings<'a>(values: impl IntoIterator<Item = &'a Value>) -> Value {
    let mut names: Vec<&str> = values.into_iter().filter_map(Value::as_str).collect();
    names.sort_unstable();
    names.into()
}

fn sorted_keys(object: &Value) -> Value {
    let mut keys: Vec<&String> = object
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
        .collect();
    keys.sort_unstable();
    keys.into_iter()
        .map(|key| Value::from(key.as_str()))
        .collect()
}

fn every_resource_is_its_templates(shell: &Shell, templates: &Templates) {
    println!("==> both stacks and every resource CREATE_COMPLETE");
    let mut checks = Vec::new();
    for stack in [BOOTSTRAP_STACK, STACK] {
        let described = shell.aws(&["cloudformation", "describe-stacks", "--stack-name", stack]);
        checks.push(same(
            format!("stack {stack} status"),
            "CREATE_COMPLETE",
            described["Stacks"][0]["StackStatus"].clone(),
        ));
        let resources = shell.aws(&[
            "cloudformation",
            "list-stack-resources",
            "--stack-name",
            stack,
        ]);
        let pending: Vec<&Value> = resources["StackResourceSummaries"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|resource| resource["ResourceStatus"] != "CREATE_COMPLETE")
            .map(|resource| &resource["LogicalResourceId"])
            .collect();
        checks.push(same(
            format!("stack {stack}'s resources not CREATE_COMPLETE"),
            Value::Array(Vec::new()),
            pending.into_iter().cloned().collect::<Vec<_>>(),
        ));
    }
    all_same(checks);

    println!("==> the code bucket (bootstrap template)");
    let bucket = shell.resource(BOOTSTRAP_STACK, synth::bootstrap::BUCKET);
    shell.aws(&["s3api", "head-bucket", "--bucket", &bucket]);
    let encryption = shell.aws(&["s3api", "get-bucket-encryption", "--bucket", &bucket]);
    all_same(vec![same(
        format!("{bucket} encryption"),
        templates.bootstrap["Resources"][synth::bootstrap::BUCKET]["Properties"]
            ["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
            ["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
            .clone(),
        encryption["ServerSideEncryptionConfiguration"]["Rules"][0]
            ["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
            .clone(),
    )]);

    println!("==> DynamoDB table (runbook: describe-table)");
    let table = templates.name(Name::Table);
    let described = shell.aws(&["dynamodb", "describe-table", "--table-name", &table]);
    let backups = shell.aws(&[
        "dynamodb",
        "describe-continuous-backups",
        "--table-name",
        &table,
    ]);
    let declared = templates.properties(outputs::TABLE_NAME.logical_id);
    let expected = TableShape::from_template(declared).expect("the template's table reads");
    let running = TableShape::from_aws(&described, &backups).expect("moto's answers read");
    // The adoption's own comparison: key schema, key attribute types, both indexes with
    // their keys and projections, billing mode. moto does not apply point-in-time recovery
    // from a template (the adoption's dry run below sees it off), so that one is left out.
    let comparison = compare(&expected, &running);
    let differences: Vec<String> = comparison
        .differences
        .into_iter()
        .filter(|(aspect, _)| *aspect != Aspect::PointInTimeRecovery)
        .map(|(_, difference)| difference)
        .collect();
    assert!(
        differences.is_empty(),
        "table {table}: {}",
        differences.join("\n")
    );
    for line in comparison.agreed {
        println!("  ok: {table} {line}");
    }
    all_same(vec![same(
        format!("{table} deletion protection"),
        declared["DeletionProtectionEnabled"].clone(),
        described["Table"]["DeletionProtectionEnabled"].clone(),
    )]);

    println!("==> EventBridge rule (runbook: describe-rule, list-targets-by-rule)");
    let rule = templates.name(Name::Rule);
    let declared = templates.properties(outputs::RULE_NAME.logical_id);
    let described = shell.aws(&["events", "describe-rule", "--name", &rule]);
    let targets = shell.aws(&["events", "list-targets-by-rule", "--rule", &rule]);
    all_same(vec![
        same(
            format!("{rule} state"),
            declared["State"].clone(),
            described["State"].clone(),
        ),
        same(
            format!("{rule} target retry policy"),
            declared["Targets"][0]["RetryPolicy"].clone(),
            targets["Targets"][0]["RetryPolicy"].clone(),
        ),
    ]);

    println!("==> the functions (runbook: get-function) and the callback's role");
    let mut checks = Vec::new();
    for output in [outputs::FUNCTION_NAME, outputs::RECONCILER_FUNCTION_NAME] {
        let function = templates.name_of(output, "FunctionName");
        let declared = templates.properties(output.logical_id);
        let deployed = shell.aws(&["lambda", "get-function", "--function-name", &function]);
        let configuration = &deployed["Configuration"];
        for setting in ["Runtime", "Handler", "MemorySize", "Timeout"] {
            checks.push(same(
                format!("{function} {setting}"),
                declared[setting].clone(),
                configuration[setting].clone(),
            ));
        }
        checks.push(same(
            format!("{function} environment variables"),
            sorted_keys(&declared["Environment"]["Variables"]),
            sorted_keys(&configuration["Environment"]["Variables"]),
        ));
        if output == outputs::FUNCTION_NAME {
            // The role the template gives the function, found through the function, as
            // the runbook's list-role-policies finds it.
            let role_id = declared["Role"]["Fn::GetAtt"][0]
                .as_str()
                .expect("the function's role is the stack's");
            let role_arn = configuration["Role"].as_str().expect("a role ARN");
            let role_name = role_arn.rsplit('/').next().unwrap_or(role_arn);
            let policies = shell.aws(&["iam", "list-role-policies", "--role-name", role_name]);
            checks.push(same(
                format!("{function} role's inline policies (runbook: list-role-policies)"),
                sorted_strings(
                    templates.properties(role_id)["Policies"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|policy| &policy["PolicyName"]),
                ),
                sorted_strings(policies["PolicyNames"].as_array().into_iter().flatten()),
            ));
        }
    }
    all_same(checks);

    println!("==> the reconciler's schedule");
    let schedule = templates.name_of(outputs::RECONCILER_SCHEDULE_NAME, "Name");
    let declared = templates.properties(outputs::RECONCILER_SCHEDULE_NAME.logical_id);
    let described = shell.aws(&["events", "describe-rule", "--name", &schedule]);
    let every = templates.default_of("ReconcileEveryMinutes");
    all_same(vec![
        same(
            format!("{schedule} state"),
            declared["State"].clone(),
            described["State"].clone(),
        ),
        same(
            format!("{schedule} expression"),
            format!("rate({every} minutes)"),
            described["ScheduleExpression"].clone(),
        ),
    ]);

    println!("==> log group (retention: the parameter's default)");
    let log_group = templates.name(Name::LogGroup);
    let groups = shell.aws(&[
        "logs",
        "describe-log-groups",
        "--log-group-name-prefix",
        &log_group,
    ]);
    let group = groups["logGroups"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|group| group["logGroupName"] == log_group.as_str())
        .unwrap_or_else(|| panic!("no log group {log_group}"));
    all_same(vec![same(
        format!("{log_group} retention"),
        templates.default_of("LogRetentionDays").clone(),
        group["retentionInDays"].clone(),
    )]);

    println!("==> SQS queues");
    let mut checks = Vec::new();
    for output in [outputs::FAILURE_QUEUE_URL, outputs::DEAD_LETTER_QUEUE_URL] {
        let queue = templates.name_of(output, "QueueName");
        let url = shell.aws(&["sqs", "get-queue-url", "--queue-name", &queue]);
        let url = url["QueueUrl"].as_str().expect("a queue URL");
        let attributes = shell.aws(&[
            "sqs",
            "get-queue-attributes",
            "--queue-url",
            url,
            "--attribute-names",
            "All",
        ]);
        // SQS answers every attribute as a string.
        checks.push(same(
            format!("{queue} retention"),
            templates.properties(output.logical_id)["MessageRetentionPeriod"].to_string(),
            attributes["Attributes"]["MessageRetentionPeriod"].clone(),
        ));
    }
    all_same(checks);
}

/// The architecture the stack was packaged for (`testkit::stack` packs the machine's).
fn arch() -> &'static str {
    if cfg!(target_arch = "aarch64") {
        "arm64"
    } else {
        "x86_64"
    }
}

/// The release binaries packed again, as `testkit::stack` packed them for the first
/// deploy: the same bytes give the same names, so a deploy finds them uploaded already.
/// Returns the deploy's settings; the packages live as long as `dir`.
fn packages(dir: &Path) -> Vec<(&'static str, String)> {
    let root = testkit::repo_root();
    let binary = testkit::function_binary;
    let package = |binary: PathBuf, function: &str| {
        let output = Command::new(root.join(".venv/tools/bin/python"))
            .arg(root.join("scripts/package.py"))
            .arg(binary)
            .args([function, arch()])
            .arg(dir)
            .output()
            .expect("run scripts/package.py");
        assert!(output.status.success(), "scripts/package.py failed");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    vec![
        ("ARCH", arch().to_owned()),
        (
            "ZIP",
            package(binary("bootstrap"), contract::resources::FUNCTION),
        ),
        (
            "RECONCILER_ZIP",
            package(binary("reconciler"), contract::resources::RECONCILER),
        ),
    ]
}

fn settings<'a>(pairs: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    pairs
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect()
}

fn a_second_run_uploads_nothing_and_changes_nothing(shell: &Shell) {
    println!("==> a second bootstrap and a second deploy of the same templates change nothing");
    let bootstrap = shell.script("scripts/bootstrap.sh", &[]);
    assert_eq!(bootstrap.code, 0, "the second bootstrap failed");
    assert!(
        bootstrap.output.contains("No changes to deploy"),
        "the second bootstrap did not report 'No changes to deploy'"
    );
    let dir = tempfile::tempdir().expect("a folder for the packages");
    let packages = packages(dir.path());
    let deploy = shell.script("scripts/deploy.sh", &settings(&packages));
    assert_eq!(deploy.code, 0, "the second deploy failed");
    assert!(
        deploy.output.contains("already uploaded"),
        "the second deploy uploaded the unchanged code again"
    );
    assert!(
        deploy.output.contains("No changes to deploy"),
        "the second deploy did not report 'No changes to deploy'"
    );
}

/// Each form of the deployed template deploys as itself: the YAML templates (PyYAML, which
/// moto and the AWS CLI read YAML with, is a YAML 1.1 reader), and the template pretty-
/// printed past the 51,200 bytes CloudFormation takes inline, which goes through the code
/// bucket. Each reads as the template already deployed, so each changes no resource.
fn the_yaml_and_a_large_template_deploy_as_the_json(shell: &Shell) {
    // AWS finds no change and the CLI says "No changes to deploy". moto answers so only
    // when the template's text is the deployed one's; for another text it makes a change
    // set, and this one has no resource change in it (synth change-set's "(no changes)").
    let changes_nothing = |ran: &Ran| {
        ran.output.contains("No changes to deploy") || ran.output.contains("    (no changes)\n")
    };
    println!("==> the YAML templates deploy as the JSON ones: nothing to change");
    let bootstrap = shell.script(
        "scripts/bootstrap.sh",
        &[("BOOTSTRAP_TEMPLATE", "templates/bootstrap.yaml")],
    );
    assert_eq!(bootstrap.code, 0, "the bootstrap from YAML failed");
    assert!(
        changes_nothing(&bootstrap),
        "the bootstrap from YAML changed something"
    );
    let dir = tempfile::tempdir().expect("a folder for the packages");
    let packages = packages(dir.path());
    let mut yaml = settings(&packages);
    yaml.push(("TEMPLATE", "templates/stack.yaml"));
    let deploy = shell.script("scripts/deploy.sh", &yaml);
    assert_eq!(deploy.code, 0, "the deploy from YAML failed");
    assert!(
        changes_nothing(&deploy),
        "the deploy from YAML changed something"
    );

    println!("==> a template over 51,200 bytes goes through the code bucket");
    let committed = std::fs::read_to_string(testkit::repo_root().join("templates/stack.json"))
        .expect("templates/stack.json");
    let document: Value = serde_json::from_str(&committed).expect("the template is JSON");
    let large = dir.path().join("stack-pretty.json");
    let text = serde_json::to_string_pretty(&document).expect("serializes");
    assert!(
        text.len() > synth::render::INLINE_LIMIT,
        "the pretty template is {} bytes",
        text.len()
    );
    std::fs::write(&large, &text).expect("write the large template");
    let large = large.to_str().expect("a UTF-8 path");

    let no_bucket = shell.script(
        "scripts/plan.sh",
        &[
            ("TEMPLATE", large),
            ("BOOTSTRAP_STACK_NAME", "no-such-bootstrap"),
        ],
    );
    assert_eq!(
        no_bucket.code, 2,
        "a large template without a bucket was not refused"
    );
    assert!(no_bucket
        .output
        .contains("no ARTIFACT_BUCKET given and no bootstrap stack no-such-bootstrap found"));

    // The AWS CLI hands CloudFormation the template's URL on the S3 endpoint. moto reads a
    // URL on 127.0.0.1 as a virtual-hosted bucket named "127", and any URL naming localhost
    // as path-style, so S3 is asked as localhost here. On AWS the URL is S3's own.
    let s3 = shell.server.endpoint().replace("127.0.0.1", "localhost");
    let mut through = settings(&packages);
    through.extend([("TEMPLATE", large), ("AWS_ENDPOINT_URL_S3", s3.as_str())]);
    let deploy = shell.script("scripts/deploy.sh", &through);
    assert_eq!(deploy.code, 0, "the deploy of the large template failed");
    let bucket = shell.resource(BOOTSTRAP_STACK, "ArtifactBucket");
    assert!(deploy.output.contains(&format!(
        "the template is {} bytes, over the 51200 CloudFormation takes inline: passed through s3://{bucket}/templates/",
        text.len()
    )));
    assert!(
        changes_nothing(&deploy),
        "the large template changed something"
    );
    let listed = shell.aws(&[
        "s3api",
        "list-objects-v2",
        "--bucket",
        &bucket,
        "--prefix",
        "templates/",
    ]);
    let sizes: Vec<u64> = listed["Contents"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|object| object["Size"].as_u64())
        .collect();
    assert_eq!(
        sizes,
        [text.len() as u64],
        "the bucket's templates/: {listed}"
    );
}

/// The stack policy on the system's stack.
fn stack_policy(shell: &Shell) -> Value {
    let got = shell.aws(&["cloudformation", "get-stack-policy", "--stack-name", STACK]);
    let body = got["StackPolicyBody"].as_str().unwrap_or("null");
    serde_json::from_str(body).expect("a stack policy is JSON")
}

fn the_stack_is_protected(shell: &Shell) {
    println!("==> the deploy left the stack policy and termination protection on");
    assert_eq!(stack_policy(shell), synth::stack_policy::guarding());
    let described = shell
        .try_cloudformation(&["describe-stacks", "--stack-name", STACK])
        .expect("describe the stack");
    assert_eq!(
        described["Stacks"][0]["EnableTerminationProtection"], true,
        "termination protection is off"
    );
    let deleted = shell.try_cloudformation(&["delete-stack", "--stack-name", STACK]);
    assert!(
        deleted.is_err_and(|err| err.contains("TerminationProtection is enabled")),
        "the protected stack's deletion was not refused"
    );

    println!("==> make plan shows the stack policy, and that LIFT_STACK_POLICY=1 would lift it");
    let plan = shell.script("scripts/plan.sh", &[("LIFT_STACK_POLICY", "1")]);
    assert_eq!(plan.code, 0, "the plan failed");
    assert!(plan
        .output
        .contains("stack policy: LIFTED for the deploy (LIFT_STACK_POLICY=1)"));
}

/// The stack's parameters, by name.
fn stack_parameters(shell: &Shell) -> std::collections::BTreeMap<String, String> {
    let described = shell.aws(&["cloudformation", "describe-stacks", "--stack-name", STACK]);
    let parameters = described["Stacks"][0]["Parameters"].as_array().cloned();
    parameters
        .into_iter()
        .flatten()
        .map(|parameter| {
            let text = |key: &str| parameter[key].as_str().unwrap_or_default().to_owned();
            (text("ParameterKey"), text("ParameterValue"))
        })
        .collect()
}

/// The objects of the code bucket: a refused deploy uploads nothing.
fn uploaded(shell: &Shell) -> usize {
    let bucket = shell.resource(BOOTSTRAP_STACK, "ArtifactBucket");
    let listed = shell.aws(&["s3api", "list-objects-v2", "--bucket", &bucket]);
    listed["Contents"].as_array().map_or(0, Vec::len)
}

/// Writes the environment file `name` into `dir`: environments/local.json (moto's account
/// and region, every setting at its default) changed by `change`.
fn environment_file(dir: &Path, name: &str, change: impl FnOnce(&mut Value)) {
    let local = testkit::repo_root().join("environments/local.json");
    let text = std::fs::read_to_string(&local).expect("environments/local.json");
    let mut file: Value = serde_json::from_str(&text).expect("an environment file");
    change(&mut file);
    std::fs::write(dir.join(format!("{name}.json")), file.to_string()).expect("write it");
}

fn environments_deploy_by_name_and_refuse_the_wrong_account(shell: &Shell, stand_in: &StandIn) {
    let envs = tempfile::tempdir().expect("a folder for environment files");
    let dir = envs.path().to_str().expect("a UTF-8 path");
    environment_file(envs.path(), "staging", |file| {
        file["parameters"]["LogRetentionDays"] = 14.into();
        file["parameters"]["ReconcileStatuses"] = "RUNNING,PENDING".into();
    });
    environment_file(envs.path(), "elsewhere", |file| {
        file["account"] = "210987654321".into();
    });
    environment_file(envs.path(), "typo", |file| {
        file["parameters"]["ClusterARN"] = "".into();
    });
    let packages_dir = tempfile::tempdir().expect("a folder for the packages");
    let packages = packages(packages_dir.path());
    let by_name = |name: &'static str, extra: &[(&'static str, &'static str)]| {
        let mut all = settings(&packages);
        all.extend([("ENV", name), ("ENVIRONMENTS_DIR", dir)]);
        all.extend(extra.iter().copied());
        all
    };

    println!("==> make plan ENV=staging shows its one-off override");
    let plan = shell.script(
        "scripts/plan.sh",
        &by_name("staging", &[("LogRetentionDays", "30")]),
    );
    assert_eq!(plan.code, 0, "the plan by name failed");
    assert!(
        plan.output
            .contains("one-off override: LogRetentionDays=30 (the file says \"14\")"),
        "the plan does not show the override"
    );

    println!("==> make plan ENV=staging ClusterArn=* flags the rule and the roles it widens");
    let wider = shell.script(
        "scripts/plan.sh",
        &by_name("staging", &[("ClusterArn", "*")]),
    );
    assert_eq!(
        wider.code, 1,
        "the plan did not flag a setting that widens access"
    );
    assert!(
        wider
            .output
            .lines()
            .any(|line| line.contains("~ CompletionRule (AWS::Events::Rule): widen")),
        "the plan does not name the rule the setting widens"
    );

    println!("==> make deploy ENV=staging sets exactly the file's settings");
    let deploy = shell.script("scripts/deploy.sh", &by_name("staging", &[]));
    assert_eq!(deploy.code, 0, "the deploy by name failed");
    let deployed = stack_parameters(shell);
    let staging: Value = serde_json::from_str(
        &std::fs::read_to_string(envs.path().join("staging.json")).expect("staging.json"),
    )
    .expect("JSON");
    for (name, value) in staging["parameters"].as_object().expect("parameters") {
        let value = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned);
        assert_eq!(
            deployed.get(name),
            Some(&value),
            "{name} after deploying staging"
        );
    }

    println!("==> a file of another account is refused before anything is uploaded or changed");
    let before = (stack_parameters(shell), uploaded(shell));
    let refused = shell.script("scripts/deploy.sh", &by_name("elsewhere", &[]));
    assert_eq!(
        refused.code, 2,
        "the deploy into another account was not refused"
    );
    assert!(
        refused
            .output
            .contains("elsewhere.json is account 210987654321 in us-east-1")
            && refused
                .output
                .contains("credentials are account 123456789012"),
        "the refusal does not name both accounts"
    );
    assert_eq!(
        (stack_parameters(shell), uploaded(shell)),
        before,
        "the refused deploy changed something"
    );
    let bootstrap = shell.script("scripts/bootstrap.sh", &by_name("elsewhere", &[]));
    assert_eq!(
        bootstrap.code, 2,
        "the bootstrap into another account was not refused"
    );

    println!("==> a key the template does not take is refused, named with its file");
    let typo = shell.script("scripts/deploy.sh", &by_name("typo", &[]));
    assert_eq!(typo.code, 2, "the file with an unknown key was not refused");
    assert!(
        typo.output
            .contains("typo.json: parameters.ClusterARN: is not a parameter of the template"),
        "the refusal does not name the file and key"
    );
    assert_eq!(
        (stack_parameters(shell), uploaded(shell)),
        before,
        "the refused deploy changed something"
    );

    println!("==> make drift ENV=local names the settings staging changed (exit 1)");
    let drift = |extra: &[(&'static str, &'static str)]| {
        let mut all = settings(&packages);
        all.push(("ENV", "local"));
        all.extend(extra.iter().copied());
        shell.script("scripts/drift.sh", &all)
    };
    let drifted = drift(&[]);
    assert_eq!(drifted.code, 1, "drift did not find the changed settings");
    assert!(
        drifted.output.contains(
            "drift: parameter LogRetentionDays: the stack has \"14\", environments/local.json says \"30\""
        ) && drifted.output.contains("drift: parameter ReconcileStatuses"),
        "drift does not name the changed parameters"
    );

    println!("==> make deploy ENV=local puts every default back");
    let local = shell.script("scripts/deploy.sh", &{
        let mut all = settings(&packages);
        all.push(("ENV", "local"));
        all
    });
    assert_eq!(
        local.code, 0,
        "the deploy of environments/local.json failed"
    );
    assert_eq!(stack_parameters(shell)["LogRetentionDays"], "30");

    println!("==> make drift ENV=local right after the deploy finds nothing (exit 0)");
    let same = drift(&[]);
    assert_eq!(same.code, 0, "drift found something right after a deploy");
    assert!(same.output.contains("drift: none"));

    println!("==> make drift names a resource drift detection finds (AWS-shaped: the stand-in)");
    stand_in.drift(vec![ResourceDrift {
        logical_id: "CallbackFailureQueue".into(),
        kind: "AWS::SQS::Queue".into(),
        status: "MODIFIED".into(),
        property: "/MessageRetentionPeriod".into(),
        expected: "1209600".into(),
        actual: "60".into(),
    }]);
    let resource = drift(&[]);
    stand_in.drift(Vec::new());
    assert_eq!(
        resource.code, 1,
        "drift did not report the drifted resource"
    );
    assert!(resource.output.contains(
        "drift: resource CallbackFailureQueue (AWS::SQS::Queue) MODIFIED: /MessageRetentionPeriod"
    ));
}

/// The table's removal, as the change set table shows it: its row, marked `!`.
fn flags_the_tables_removal(output: &str) -> bool {
    let table_id = outputs::TABLE_NAME.logical_id;
    output.lines().any(|line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        words.starts_with(&["Remove", table_id, "AWS::DynamoDB::Table"]) && words.contains(&"!")
    })
}

fn a_change_that_removes_data_is_flagged_and_refused(shell: &Shell) {
    // The system's stack given the bootstrap template drops the table and every queue and
    // log group. moto's change sets carry no replacement data, so a removal is the
    // dangerous change moto can show; replacements are tested on AWS-shaped answers
    // (synth's change_set tests).
    let removal = testkit::repo_root().join(synth::render::Which::Bootstrap.file());
    let removal = removal.to_str().expect("a UTF-8 path");
    let before = shell.resource_count(STACK);

    println!("==> make plan shows a change that removes data, flags it, and changes nothing");
    let plan = shell.script(
        "scripts/plan.sh",
        &[("STACK_NAME", STACK), ("TEMPLATE", removal)],
    );
    assert_eq!(
        plan.code, 1,
        "plan did not exit 1 for a change that removes the table"
    );
    assert!(
        flags_the_tables_removal(&plan.output),
        "the plan does not flag the table's removal"
    );
    // moto lists executed change sets too, and other stacks' (AWS deletes them on execution).
    let change_sets = shell.aws(&["cloudformation", "list-change-sets", "--stack-name", STACK]);
    let left: Vec<&Value> = change_sets["Summaries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|summary| {
            summary["StackName"] == STACK && summary["ExecutionStatus"] == "AVAILABLE"
        })
        .collect();
    assert!(
        left.is_empty(),
        "the plan left its change set behind: {left:?}"
    );
    assert_eq!(
        shell.resource_count(STACK),
        before,
        "the plan changed the stack"
    );

    println!("==> make deploy refuses the same change without YES=1");
    let dir = tempfile::tempdir().expect("a folder for the packages");
    let packages = packages(dir.path());
    let mut deploy_settings = settings(&packages);
    deploy_settings.extend([
        ("STACK_NAME", STACK),
        ("TEMPLATE", removal),
        ("LIFT_STACK_POLICY", "1"),
    ]);
    let deploy = shell.script("scripts/deploy.sh", &deploy_settings);
    assert_eq!(deploy.code, 1, "deploy did not refuse");
    assert!(
        deploy.output.contains("LIFTED for this deploy") && deploy.output.contains("put back"),
        "the deploy did not say it lifted the stack policy and put it back"
    );
    assert_eq!(
        stack_policy(shell),
        synth::stack_policy::guarding(),
        "the refused deploy left the stack policy lifted"
    );
    let refusal = deploy.output.find("not executed");
    assert!(
        refusal.is_some_and(|at| deploy.output[at..].contains("YES=1")),
        "deploy did not say it refused and how to go on"
    );
    assert_eq!(
        shell.resource_count(STACK),
        before,
        "the refused deploy changed the stack"
    );
}

fn the_adoption_dry_run_checks_the_running_table_and_changes_nothing(
    shell: &Shell,
    templates: &Templates,
) {
    // moto has no IMPORT change sets: the pre-checks run for real against the resources
    // deployed above (they carry the runbook's names), the documents are generated, and
    // every command that would change the account is printed, not run.
    let adopted = format!("{STACK}-adopt-check");
    let dry_run = [("STACK_NAME", adopted.as_str()), ("DRY_RUN", "1")];
    let table = templates.name(Name::Table);

    println!("==> make adopt, dry run: refuses a table without point-in-time recovery");
    // moto does not apply the template's point-in-time recovery, which lets the pre-check
    // be seen refusing a table without it; then it is turned on as the message says.
    let refused = shell.script("scripts/adopt.sh", &dry_run);
    let turn_on = format!(
        "point-in-time recovery is DISABLED on {table}; turn it on first: aws dynamodb \
         update-continuous-backups --table-name {table}"
    );
    assert_eq!(
        refused.code, 1,
        "adopt did not refuse a table without point-in-time recovery"
    );
    assert!(
        refused.output.contains(&turn_on),
        "adopt did not say how to turn recovery on"
    );
    shell.aws(&[
        "dynamodb",
        "update-continuous-backups",
        "--table-name",
        &table,
        "--point-in-time-recovery-specification",
        "PointInTimeRecoveryEnabled=true",
    ]);

    println!("==> make adopt, dry run: pre-checks, the import documents, the commands");
    let passed = shell.script("scripts/adopt.sh", &dry_run);
    assert_eq!(passed.code, 0, "the adoption's dry run failed");
    for (what, expected) in [
        ("checked the key schema", format!("ok: {table} key schema")),
        ("checked both indexes", format!("ok: {table} index")),
        (
            "checked the billing mode",
            format!("ok: {table} billing mode"),
        ),
        (
            "checked point-in-time recovery",
            format!("ok: {table} point-in-time recovery ENABLED"),
        ),
    ] {
        assert!(
            passed.output.contains(&expected),
            "the dry run never {what}"
        );
    }
    let would_run = |words: &[&str]| {
        passed
            .output
            .lines()
            .filter(|line| line.trim_start().starts_with("would run:"))
            .any(|line| words.iter().all(|word| line.contains(word)))
    };
    assert!(
        would_run(&["create-change-set", "--change-set-type IMPORT"]),
        "the dry run does not import"
    );
    assert!(
        would_run(&["lambda delete-function"]),
        "the dry run does not retire the old function"
    );
    assert!(
        shell
            .try_aws(&[
                "cloudformation",
                "describe-stacks",
                "--stack-name",
                &adopted
            ])
            .is_err(),
        "the dry run created a stack"
    );

    println!("==> make adopt refuses a stack that exists, before anything else");
    let existing = shell.script(
        "scripts/adopt.sh",
        &[("STACK_NAME", STACK), ("DRY_RUN", "1")],
    );
    assert_eq!(existing.code, 1, "adopt did not refuse an existing stack");
    assert!(
        existing.output.contains("already exists"),
        "adopt did not say the stack exists"
    );
}

/// Step 5 of `make adopt` alone (`CHECK_ONLY=1`), run for real against the deployed stack:
/// the script puts a test dispatch in the table and invokes the function through the AWS
/// CLI; the stand-in hands that invoke to the function's real binary under a local Runtime
/// API, which settles the dispatch in moto's table. Whether the check passes or fails, the
/// test record is gone afterwards.
fn the_adoptions_check_settles_a_test_dispatch_and_leaves_no_record(
    shell: &Shell,
    stack: &LocalStack,
    templates: &Templates,
) {
    let table = templates.name(Name::Table);
    let function = templates.name(Name::Function);
    let check = [
        ("STACK_NAME", STACK),
        ("CHECK_ONLY", "1"),
        ("YES", "1"),
        ("AWS_ENDPOINT_URL_LAMBDA", stack.stand_in.endpoint()),
    ];
    // The test dispatch the run put and says it removed, which must be absent, and the
    // one invoke it made, which must be of that dispatch.
    let removed_and_invoked = |ran: &Ran| {
        let dispatch = ran
            .output
            .lines()
            .find_map(|line| line.trim().strip_prefix("ok: test record "))
            .and_then(|rest| rest.strip_suffix(" removed"))
            .unwrap_or_else(|| panic!("the check did not remove its test record"))
            .to_owned();
        let key = serde_json::to_string(&test_record::key(&dispatch)).unwrap();
        let answer = shell.aws(&[
            "dynamodb",
            "get-item",
            "--table-name",
            &table,
            "--consistent-read",
            "--key",
            &key,
        ]);
        assert_eq!(
            test_record::settled(&answer),
            Err(NotSettled::Missing),
            "the test record {dispatch} is still in the table"
        );
        let invocation = stack.stand_in.invocations().pop().expect("an invoke");
        assert_eq!(invocation.function, function);
        assert_eq!(invocation.invocation_type, "RequestResponse");
        // Read as the callback reads it.
        let Ok(Classified::Stopped(task)) = classify(invocation.payload) else {
            panic!("the invoke was not of a stopped task");
        };
        let named = dispatch_id::from_event(&task.detail).expect("the event's dispatch ID");
        assert_eq!(
            named.map(|(id, _)| id.as_str().to_owned()),
            Some(dispatch),
            "the invoke was not of the test dispatch"
        );
    };

    println!("==> make adopt CHECK_ONLY=1: the invoke fails, the test record goes all the same");
    // One attempt: the AWS CLI would retry the 500 and be answered 202 the second time.
    let once = [&check[..], &[("AWS_MAX_ATTEMPTS", "1")]].concat();
    stack.stand_in.script_invokes([false]);
    let failed = shell.script("scripts/adopt.sh", &once);
    assert_ne!(failed.code, 0, "the check passed with its invoke refused");
    assert!(
        failed.output.contains("scripted failure"),
        "the invoke did not fail"
    );
    removed_and_invoked(&failed);

    println!("==> make adopt CHECK_ONLY=1: the dispatch is not settled, the test record goes");
    // The stand-in accepts the invoke and runs nothing, as a function that lost the event.
    let refused = shell.script("scripts/adopt.sh", &check);
    assert_eq!(
        refused.code, 1,
        "the check passed with its dispatch unsettled"
    );
    assert!(
        refused.output.contains("ended RUNNING, not COMPLETED"),
        "the check did not say the dispatch is unsettled"
    );
    removed_and_invoked(&refused);

    println!("==> make adopt CHECK_ONLY=1: the function's real binary settles the test dispatch");
    let api = Arc::new(RuntimeApi::start(&function).expect("start a Runtime API"));
    let binary = testkit::function_binary("bootstrap");
    let process = FunctionProcess::spawn(&binary, &api, &stack.env(), runtime::Output::Null)
        .expect("start the function");
    stack.stand_in.run_function(&function, Arc::clone(&api));
    // The script waits on the function, which this runtime's tasks serve.
    let passed = tokio::task::block_in_place(|| shell.script("scripts/adopt.sh", &check));
    assert_eq!(passed.code, 0, "the check failed");
    assert!(
        passed
            .output
            .contains("settled COMPLETED by the deployed function"),
        "the check did not see the dispatch settled"
    );
    removed_and_invoked(&passed);
    drop(process);
}

//! The whole stack deployed into moto through the same path as `make local`
//! (`scripts/bootstrap.sh`, then `scripts/deploy.sh` with the packaged release binaries),
//! with the AWS-shaped stand-in in front of moto for Lambda's `Invoke`, CloudWatch, and
//! the stack's resource listing and outputs. `outpost-ops`'s tests run the real binary
//! against it.
//!
//! What moto needs besides, fixed up here so that no production code has to: the
//! functions' environment as strings, and, through the stand-in, the resources moto does
//! not create from a template (the alarms among them) listed as AWS lists them, and the
//! stack's outputs, which moto leaves empty after a change-set deploy.

use std::process::Command;

use aws_config::ConfigLoader;
use contract::resources::{FUNCTION, RECONCILER, STACK};
use serde_json::{json, Map, Value};

use crate::server::{point_at, Server, NO_PROFILE};
use crate::stand_in::{StackResource, StandIn};

/// A deployed stack; moto and the stand-in stop when it is dropped.
pub struct LocalStack {
    pub server: Server,
    pub stand_in: StandIn,
    /// Where the packages were written, removed with the stack.
    _dist: tempfile::TempDir,
}

impl LocalStack {
    /// Starts moto and deploys the bootstrap stack and the stack into it.
    pub async fn deploy() -> LocalStack {
        let server = Server::moto().expect("start moto");
        let stand_in = StandIn::start(&server).await.expect("start the stand-in");
        let root = crate::repo_root();
        let dist = tempfile::Builder::new()
            .prefix("outpost-stack-")
            .tempdir()
            .expect("a folder for the packages");
        let python = root.join(".venv/tools/bin/python");
        let arch = if cfg!(target_arch = "aarch64") {
            "arm64"
        } else {
            "x86_64"
        };
        let package = |binary: &str, name: &str| {
            let mut command = Command::new(&python);
            command
                .arg(root.join("scripts/package.py"))
                .arg(crate::function_binary(binary))
                .args([name, arch])
                .arg(dist.path());
            let what = "scripts/package.py (make tools installs its Python)";
            stdout_of(&mut command, what).trim().to_owned()
        };
        let zip = package("bootstrap", FUNCTION);
        let reconciler_zip = package("reconciler", RECONCILER);
        // CloudFormation through the stand-in, which has the termination protection
        // moto lacks; everything else as moto answers it.
        stand_in.leave_to_moto(true);
        for script in ["scripts/bootstrap.sh", "scripts/deploy.sh"] {
            let mut command = server.command(root.join(script));
            command
                .current_dir(&root)
                .env("AWS_ENDPOINT_URL_CLOUDFORMATION", stand_in.endpoint())
                .envs([
                    ("ARCH", arch),
                    ("ZIP", &zip),
                    ("RECONCILER_ZIP", &reconciler_zip),
                ])
                .env_remove("STACK_NAME");
            stdout_of(&mut command, script);
        }
        stand_in.leave_to_moto(false);
        let stack = LocalStack {
            server,
            stand_in,
            _dist: dist,
        };
        for function in [FUNCTION, RECONCILER] {
            stack.stringify_environment(function);
        }
        let template = crate::template::stack();
        let resources = as_aws_lists(&template, STACK);
        stack.stand_in.list_stack_resources(resources);
        stack.stand_in.give_outputs(STACK, &template);
        stack
    }

    /// moto keeps a `Number` parameter that a template puts in a function's environment
    /// as a JSON number, where Lambda holds every variable as a string (and the Rust SDK
    /// refuses anything else): the variables are written back as the strings AWS holds.
    fn stringify_environment(&self, function: &str) {
        let variables = self.lambda(
            "get-function-configuration",
            function,
            &["--query", "Environment.Variables", "--output", "json"],
        );
        let variables: Map<String, Value> =
            serde_json::from_str(&variables).expect("the environment is a JSON object");
        let strings: Map<String, Value> = variables
            .into_iter()
            .map(|(name, value)| {
                let text = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned);
                (name, Value::String(text))
            })
            .collect();
        let environment = json!({ "Variables": strings }).to_string();
        self.lambda(
            "update-function-configuration",
            function,
            &["--environment", &environment],
        );
    }

    /// Runs the pinned AWS CLI's `lambda operation` on `function` against moto, with
    /// `args`; returns its output.
    fn lambda(&self, operation: &str, function: &str, args: &[&str]) -> String {
        let aws = crate::repo_root().join(".venv/tools/bin/aws");
        let mut command = self.server.command(aws);
        command
            .args(["lambda", operation, "--function-name", function])
            .args(args);
        stdout_of(&mut command, &format!("aws lambda {operation} {args:?}"))
    }

    /// The environment of a process that talks to this stack: moto for everything, the
    /// stand-in for Lambda, CloudWatch and CloudFormation, no pager or profile of the
    /// person running the tests.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = self.server.env();
        env.extend(self.stand_in.env());
        env.extend(NO_PROFILE.map(|(name, value)| (name.to_owned(), value.to_owned())));
        env
    }

    /// `base` (which brings its HTTP client) pointed at moto.
    pub fn loader(&self, base: ConfigLoader) -> ConfigLoader {
        point_at(base, self.server.endpoint())
    }
}

/// Every resource of `template`, as AWS's `ListStackResources` lists it once deployed as
/// `stack`: by the name the template gives it (an alarm's `AlarmName`, a dashboard's
/// `DashboardName`, ...), else by the name CloudFormation would give it. The stand-in
/// lists those moto leaves as placeholders.
fn as_aws_lists(template: &Value, stack: &str) -> Vec<StackResource> {
    crate::template::resources(template)
        .iter()
        .map(|(logical_id, resource)| {
            let kind = resource["Type"].as_str().unwrap_or_default().to_owned();
            let name_property = format!("{}Name", kind.rsplit("::").next().unwrap_or_default());
            let physical_id = match resource["Properties"][name_property].as_str() {
                Some(name) => name.to_owned(),
                None => format!("{stack}-{logical_id}"),
            };
            StackResource {
                logical_id: logical_id.clone(),
                kind,
                physical_id,
            }
        })
        .collect()
}

/// Runs `command` (`what` names it) to success; returns what it printed.
fn stdout_of(command: &mut Command, what: &str) -> String {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("run {what}: {err}"));
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

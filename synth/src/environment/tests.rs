use serde_json::json;

use super::*;
use crate::config::Config;

fn template() -> Template {
    crate::stack::build(&Config::runbook())
}

/// A file with every setting at the template's default.
fn complete() -> Environment {
    let template = template();
    let parameters = settings(&template)
        .map(|name| {
            let parameter = &template.parameters[name];
            let value = serde_json::to_value(&parameter.default).unwrap();
            (name.to_owned(), value)
        })
        .collect();
    Environment {
        account: "123456789012".into(),
        region: "eu-west-1".into(),
        stack_name: None,
        parameters,
    }
}

fn problems(environment: &Environment) -> Vec<String> {
    check(Path::new("environments/x.json"), environment, &template())
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn a_file_with_every_setting_at_its_default_is_sound() {
    assert_eq!(problems(&complete()), Vec::<String>::new());
}

#[test]
fn an_unknown_parameter_and_one_of_the_build_are_named_with_the_file() {
    let mut environment = complete();
    environment
        .parameters
        .insert("ClusterARN".into(), json!(""));
    environment
        .parameters
        .insert("CodeKey".into(), json!("x.zip"));
    let found = problems(&environment);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("environments/x.json: parameters.ClusterARN: is not a parameter"));
    assert!(found[1].starts_with("environments/x.json: parameters.CodeKey: comes from the build"));
}

#[test]
fn wrong_types_and_values_outside_the_constraints_are_errors() {
    let mut environment = complete();
    let parameters = &mut environment.parameters;
    parameters.insert("LogRetentionDays".into(), json!("30"));
    parameters.insert("ReconcileEveryMinutes".into(), json!(7));
    parameters.insert("ReconcileGraceMinutes".into(), json!(0));
    parameters.insert(
        "ClusterArn".into(),
        json!("arn:aws:ecs:eu-west-1:1:cluster/x"),
    );
    let found = problems(&environment);
    let keys: Vec<&str> = found
        .iter()
        .map(|line| line.split(": ").nth(1).unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "parameters.ClusterArn",
            "parameters.LogRetentionDays",
            "parameters.ReconcileEveryMinutes",
            "parameters.ReconcileGraceMinutes",
        ],
        "{found:#?}"
    );
    assert!(
        found[0].ends_with("is not empty, *, or an ECS cluster ARN"),
        "{}",
        found[0]
    );
    assert!(found[1].contains("is not a whole number"), "{}", found[1]);
    assert!(found[2].contains("is not one of"), "{}", found[2]);
    assert!(found[3].contains("is outside 1..=59"), "{}", found[3]);
}

#[test]
fn a_missing_setting_and_a_bad_account_or_region_are_errors() {
    let mut environment = complete();
    environment.parameters.remove("AlarmTopicArn");
    environment.account = "12345".into();
    environment.region = "Europe".into();
    let found = problems(&environment);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found[0].contains(": account: "));
    assert!(found[1].contains(": region: "));
    assert!(found[2].contains(": parameters.AlarmTopicArn: is missing"));
}

#[test]
fn reconciler_timings_that_contradict_each_other_name_the_one_at_fault() {
    let mut environment = complete();
    environment
        .parameters
        .insert("ReconcileMaxAgeMinutes".into(), json!(70));
    let found = problems(&environment);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with(
            "environments/x.json: parameters.ReconcileMaxAgeMinutes: 70 contradicts \
             ReconcileGraceMinutes=10 and ReconcileSweepMinutes=60"
        ),
        "{}",
        found[0]
    );
}

#[test]
fn an_unknown_top_level_key_is_refused_when_read() {
    let dir = std::env::temp_dir().join(format!("synth-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("typo.json");
    std::fs::write(
        &file,
        r#"{"account": "123456789012", "region": "eu-west-1", "parameter": {}}"#,
    )
    .unwrap();
    let problem = read(&file).unwrap_err();
    assert!(
        problem.message.contains("unknown field `parameter`"),
        "{problem}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn overrides_are_typed_checked_and_shown_with_what_they_replace() {
    let dir = std::env::temp_dir().join(format!("synth-env-resolve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let environment = complete();
    let body = json!({"account": environment.account, "region": environment.region,
                      "parameters": environment.parameters});
    std::fs::write(dir.join("dev.json"), body.to_string()).unwrap();
    let template = template();
    let given = [
        ("LogRetentionDays".to_owned(), "90".to_owned()),
        ("ClusterArn".to_owned(), "*".to_owned()),
    ];
    let resolved = resolve(&dir, "dev", &given, &template).unwrap();
    assert_eq!(resolved.parameters["LogRetentionDays"], "90");
    assert_eq!(resolved.parameters["ClusterArn"], "*");
    assert_eq!(resolved.stack_name, contract::resources::STACK);
    assert_eq!(
        resolved.overrides,
        [
            (
                "LogRetentionDays".to_owned(),
                "30".to_owned(),
                "90".to_owned()
            ),
            ("ClusterArn".to_owned(), String::new(), "*".to_owned())
        ]
    );
    let bad = [("LogRetentionDays".to_owned(), "31".to_owned())];
    let problems = resolve(&dir, "dev", &bad, &template).unwrap_err();
    assert!(problems[0]
        .to_string()
        .contains("parameters.LogRetentionDays: 31 is not one of"));
    assert!(resolve(&dir, "../dev", &[], &template).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn regions_of_every_partition_are_regions() {
    for region in [
        "us-east-1",
        "eu-west-1",
        "ap-southeast-2",
        "us-gov-west-1",
        "cn-north-1",
    ] {
        assert!(is_region(region), "{region}");
    }
    for not in ["", "us-east", "US-EAST-1", "useast1", "us--1"] {
        assert!(!is_region(not), "{not}");
    }
}

//! The stack against the runbook. Expected values are written out here, copied from the
//! runbook (not read from `Config` or the contract), so a wrong name or threshold fails a
//! test. The assertions read the rendered JSON document: what ships is what is tested.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use synth::{render, Config};

fn template() -> Value {
    serde_json::from_str(&render(&Config::runbook())).expect("the template is JSON")
}

fn resource<'a>(template: &'a Value, logical_id: &str) -> &'a Value {
    let resource = &template["Resources"][logical_id];
    assert!(resource.is_object(), "no resource {logical_id}");
    resource
}

fn properties<'a>(template: &'a Value, logical_id: &str) -> &'a Value {
    &resource(template, logical_id)["Properties"]
}

/// The resources of one type, by logical ID.
fn resources_of_type<'a>(template: &'a Value, type_name: &str) -> Vec<(&'a str, &'a Value)> {
    template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, resource)| resource["Type"] == type_name)
        .map(|(id, resource)| (id.as_str(), resource))
        .collect()
}

fn get_att(logical_id: &str, attribute: &str) -> Value {
    json!({"Fn::GetAtt": [logical_id, attribute]})
}

fn reference(name: &str) -> Value {
    json!({"Ref": name})
}

/// One alarm as the runbook's YAML gives it (and ours, beyond the runbook).
#[derive(Clone)]
struct ExpectedAlarm {
    name: &'static str,
    namespace: &'static str,
    metric: &'static str,
    dimension: (&'static str, Value),
    /// `("Statistic", "Sum")` or `("ExtendedStatistic", "p95")`.
    statistic: (&'static str, &'static str),
    period: u64,
    evaluation_periods: u64,
    threshold: u64,
    comparison: &'static str,
    treat_missing_data: &'static str,
}

fn check_alarm(template: &Value, expected: &ExpectedAlarm) {
    let alarms = resources_of_type(template, "AWS::CloudWatch::Alarm");
    let (_, alarm) = alarms
        .iter()
        .find(|(_, alarm)| alarm["Properties"]["AlarmName"] == expected.name)
        .unwrap_or_else(|| panic!("no alarm named {}", expected.name));
    let properties = &alarm["Properties"];
    let name = expected.name;
    assert_eq!(properties["Namespace"], expected.namespace, "{name}");
    assert_eq!(properties["MetricName"], expected.metric, "{name}");
    assert_eq!(
        properties["Dimensions"],
        json!([{"Name": expected.dimension.0, "Value": expected.dimension.1}]),
        "{name}"
    );
    let (statistic_key, statistic) = expected.statistic;
    assert_eq!(properties[statistic_key], statistic, "{name}");
    let other_key = if statistic_key == "Statistic" {
        "ExtendedStatistic"
    } else {
        "Statistic"
    };
    assert!(
        properties.get(other_key).is_none(),
        "{name} has both statistics"
    );
    assert_eq!(properties["Period"], expected.period, "{name}");
    assert_eq!(
        properties["EvaluationPeriods"], expected.evaluation_periods,
        "{name}"
    );
    assert_eq!(properties["Threshold"], expected.threshold, "{name}");
    assert_eq!(
        properties["ComparisonOperator"], expected.comparison,
        "{name}"
    );
    assert_eq!(
        properties["TreatMissingData"], expected.treat_missing_data,
        "{name}"
    );
    let actions =
        json!({"Fn::If": ["AlarmTopicGiven", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]});
    assert_eq!(properties["AlarmActions"], actions, "{name}");
    assert_eq!(properties["OKActions"], actions, "{name}");
}

#[test]
fn the_runbooks_alarms_have_the_runbooks_thresholds() {
    let template = template();
    // Runbook section 3. `Ref CallbackFunction` resolves to the function name, which is
    // outpost-dispatch-callback (checked below).
    let function = ("FunctionName", reference("CallbackFunction"));
    let expected = [
        ExpectedAlarm {
            name: "outpost-dispatch-callback-errors",
            namespace: "AWS/Lambda",
            metric: "Errors",
            dimension: function.clone(),
            statistic: ("Statistic", "Sum"),
            period: 300,
            evaluation_periods: 1,
            threshold: 0,
            comparison: "GreaterThanThreshold",
            treat_missing_data: "notBreaching",
        },
        ExpectedAlarm {
            name: "outpost-dispatch-callback-duration",
            namespace: "AWS/Lambda",
            metric: "Duration",
            dimension: function.clone(),
            statistic: ("ExtendedStatistic", "p95"),
            period: 300,
            evaluation_periods: 2,
            threshold: 500,
            comparison: "GreaterThanThreshold",
            treat_missing_data: "notBreaching",
        },
        ExpectedAlarm {
            name: "outpost-dispatch-callback-throttles",
            namespace: "AWS/Lambda",
            metric: "Throttles",
            dimension: function,
            statistic: ("Statistic", "Sum"),
            period: 60,
            evaluation_periods: 1,
            threshold: 0,
            comparison: "GreaterThanThreshold",
            treat_missing_data: "notBreaching",
        },
    ];
    for alarm in &expected {
        check_alarm(&template, alarm);
    }
    assert_eq!(
        properties(&template, "CallbackFunction")["FunctionName"],
        "outpost-dispatch-callback"
    );
}

#[test]
fn an_alarm_fires_when_an_event_waits_in_either_queue() {
    let template = template();
    let cases = [
        (
            "outpost-dispatch-callback-failures-waiting",
            "CallbackFailureQueue",
        ),
        (
            "outpost-dispatch-completion-dlq-waiting",
            "CompletionDeadLetterQueue",
        ),
    ];
    for (name, queue) in cases {
        check_alarm(
            &template,
            &ExpectedAlarm {
                name,
                namespace: "AWS/SQS",
                metric: "ApproximateNumberOfMessagesVisible",
                dimension: ("QueueName", get_att(queue, "QueueName")),
                statistic: ("Statistic", "Maximum"),
                period: 300,
                evaluation_periods: 1,
                threshold: 0,
                comparison: "GreaterThanThreshold",
                treat_missing_data: "notBreaching",
            },
        );
    }
    assert_eq!(
        resources_of_type(&template, "AWS::CloudWatch::Alarm").len(),
        9
    );
}

#[test]
fn the_reconcilers_alarms_fire_on_any_settled_dispatch_failed_run_and_quiet_failure() {
    let template = template();
    let reconciler = ("FunctionName", reference("ReconcilerFunction"));
    let unchecked = ExpectedAlarm {
        name: "outpost-dispatch-reconciler-unchecked",
        namespace: "Outpost/Callbacks",
        metric: "ReconcilerUnchecked",
        dimension: reconciler.clone(),
        // The least over 30 minutes above zero: no run in half an hour checked all.
        statistic: ("Statistic", "Minimum"),
        period: 1800,
        evaluation_periods: 1,
        threshold: 0,
        comparison: "GreaterThanThreshold",
        treat_missing_data: "notBreaching",
    };
    let no_task = ExpectedAlarm {
        name: "outpost-dispatch-reconciler-no-task-past-max-age",
        metric: "ReconcilerNoTaskPastMaxAge",
        statistic: ("Statistic", "Sum"),
        period: 3600,
        ..unchecked.clone()
    };
    check_alarm(&template, &unchecked);
    check_alarm(&template, &no_task);
    let description = properties(&template, "ReconcilerNoTaskPastMaxAgeAlarm")["AlarmDescription"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(description.contains("outpost-ops settle"), "{description}");
    let expected = [
        ExpectedAlarm {
            name: "outpost-dispatch-reconciler-settled",
            namespace: "Outpost/Callbacks",
            metric: "ReconcilerSettled",
            dimension: reconciler.clone(),
            statistic: ("Statistic", "Sum"),
            period: 300,
            evaluation_periods: 1,
            threshold: 0,
            comparison: "GreaterThanThreshold",
            treat_missing_data: "notBreaching",
        },
        ExpectedAlarm {
            name: "outpost-dispatch-reconciler-errors",
            namespace: "AWS/Lambda",
            metric: "Errors",
            dimension: reconciler,
            statistic: ("Statistic", "Sum"),
            period: 300,
            evaluation_periods: 1,
            threshold: 0,
            comparison: "GreaterThanThreshold",
            treat_missing_data: "notBreaching",
        },
    ];
    for alarm in &expected {
        check_alarm(&template, alarm);
    }
    let settled = properties(&template, "ReconcilerSettledAlarm");
    let description = settled["AlarmDescription"].as_str().unwrap();
    assert!(
        description.contains("lost its event")
            && description.contains("dispatch settled by the reconciler"),
        "{description}"
    );
}

#[test]
fn the_reconciler_runs_on_a_schedule_with_least_privilege() {
    let template = template();
    // The clusters it reads, as the rule's: one, or every one of the account and region.
    let cluster = json!({"Fn::If": [
        "AnyCluster",
        {"Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:cluster/*"},
        {"Fn::If": ["ClusterArnGiven", {"Ref": "ClusterArn"},
            {"Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:cluster/outpost-dev"}]}
    ]});
    let function = properties(&template, "ReconcilerFunction");
    assert_eq!(function["FunctionName"], "outpost-dispatch-reconciler");
    assert_eq!(function["Runtime"], "provided.al2023");
    assert_eq!(
        function["Code"],
        json!({"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "ReconcilerCodeKey"}})
    );
    assert_eq!(
        function["Environment"]["Variables"],
        json!({
            "WATCHED_CLUSTER": cluster,
            "TABLE_NAME": {"Ref": "DispatchTable"},
            "WORKER_CONTAINER": {"Ref": "WorkerContainer"},
            "STATUS_INDEX": "status-createdAt-index",
            "RECONCILE_STATUSES": {"Ref": "ReconcileStatuses"},
            "RECONCILE_EVERY_MINUTES": {"Ref": "ReconcileEveryMinutes"},
            "GRACE_MINUTES": {"Ref": "ReconcileGraceMinutes"},
            "MAX_AGE_MINUTES": {"Ref": "ReconcileMaxAgeMinutes"},
            "SWEEP_MINUTES": {"Ref": "ReconcileSweepMinutes"},
            "SWEEP_TABLE": {"Ref": "ReconcilerSweepTable"}
        })
    );
    assert_eq!(
        function["LoggingConfig"],
        json!({"LogFormat": "Text", "LogGroup": {"Ref": "ReconcilerLogGroup"}})
    );
    let parameters = &template["Parameters"];
    assert_eq!(parameters["ReconcileEveryMinutes"]["Default"], 5);
    assert_eq!(parameters["ReconcileGraceMinutes"]["Default"], 10);
    assert_eq!(parameters["ReconcileMaxAgeMinutes"]["Default"], 120);
    assert_eq!(parameters["ReconcileSweepMinutes"]["Default"], 60);
    assert_eq!(parameters["ReconcileStatuses"]["Default"], "RUNNING");
    assert!(
        parameters["ReconcilerCodeKey"].get("Default").is_none(),
        "required"
    );

    let schedule = properties(&template, "ReconcilerSchedule");
    assert_eq!(schedule["Name"], "outpost-dispatch-reconciler-schedule");
    assert_eq!(
        schedule["ScheduleExpression"],
        json!({"Fn::If": [
            "ReconcileEveryMinute",
            "rate(1 minute)",
            {"Fn::Sub": "rate(${ReconcileEveryMinutes} minutes)"}
        ]})
    );
    assert_eq!(
        template["Conditions"]["ReconcileEveryMinute"],
        json!({"Fn::Equals": [{"Ref": "ReconcileEveryMinutes"}, "1"]})
    );
    assert_eq!(
        schedule["Targets"],
        json!([{"Id": "outpost-dispatch-reconciler", "Arn": get_att("ReconcilerFunction", "Arn")}])
    );
    assert_eq!(
        properties(&template, "ReconcilerSchedulePermission")["SourceArn"],
        get_att("ReconcilerSchedule", "Arn")
    );
    assert_eq!(
        properties(&template, "ReconcilerEventInvokeConfig")["MaximumRetryAttempts"],
        0
    );

    // Query on the status index only, the conditional write and the batch read before it,
    // its sweep's place, DescribeTasks and ListTasks on the rule's cluster only,
    // ListClusters only when every cluster is watched, and its own logs.
    let statements =
        &properties(&template, "ReconcilerRole")["Policies"][0]["PolicyDocument"]["Statement"];
    let ecs = |resource: &str| json!([{"Fn::Sub": format!("arn:${{AWS::Partition}}:ecs:${{AWS::Region}}:${{AWS::AccountId}}:{resource}")}]);
    let log_group = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${ReconcilerLogGroup}";
    assert_eq!(
        *statements,
        json!([
            {"Sid": "ListDispatches", "Effect": "Allow", "Action": ["dynamodb:Query"],
             "Resource": [{"Fn::Sub": "${DispatchTable.Arn}/index/status-createdAt-index"}]},
            {"Sid": "SettleDispatches", "Effect": "Allow",
             "Action": ["dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:BatchGetItem"],
             "Resource": [get_att("DispatchTable", "Arn")]},
            {"Sid": "KeepSweepPlace", "Effect": "Allow",
             "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
             "Resource": [get_att("ReconcilerSweepTable", "Arn")]},
            {"Sid": "DescribeClusterTasks", "Effect": "Allow", "Action": ["ecs:DescribeTasks"],
             "Resource": ecs("task/*"), "Condition": {"ArnLike": {"ecs:cluster": cluster}}},
            {"Sid": "ListClusterTasks", "Effect": "Allow", "Action": ["ecs:ListTasks"],
             "Resource": ecs("container-instance/*"),
             "Condition": {"ArnLike": {"ecs:cluster": cluster}}},
            {"Fn::If": ["AnyCluster",
             {"Sid": "ListClusters", "Effect": "Allow", "Action": ["ecs:ListClusters"], "Resource": ["*"]},
             {"Ref": "AWS::NoValue"}]},
            {"Sid": "WriteLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": [{"Fn::Sub": log_group}, {"Fn::Sub": format!("{log_group}:log-stream:*")}]}
        ])
    );
}

/// The sweep's place is the reconciler's own: a small table keyed by status, not
/// retained (it holds no dispatch).
#[test]
fn the_sweep_keeps_its_place_in_a_table_of_its_own() {
    let template = template();
    let table = resource(&template, "ReconcilerSweepTable");
    assert!(table.get("DeletionPolicy").is_none(), "{table}");
    let properties = &table["Properties"];
    assert_eq!(properties["TableName"], "outpost-reconciler-sweep");
    assert_eq!(properties["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        properties["KeySchema"],
        json!([{"AttributeName": "sweep", "KeyType": "HASH"}])
    );
    assert!(properties.get("GlobalSecondaryIndexes").is_none());
}

#[test]
fn the_table_has_the_runbooks_keys_and_indexes() {
    let template = template();
    let table = resource(&template, "DispatchTable");
    assert_eq!(table["DeletionPolicy"], "Retain");
    assert_eq!(table["UpdateReplacePolicy"], "Retain");
    let properties = &table["Properties"];
    assert_eq!(properties["TableName"], "outpost-dispatches");
    assert_eq!(properties["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        properties["KeySchema"],
        json!([{"AttributeName": "dispatchId", "KeyType": "HASH"}])
    );
    assert_eq!(
        properties["PointInTimeRecoverySpecification"],
        json!({"PointInTimeRecoveryEnabled": true})
    );
    assert_eq!(properties["DeletionProtectionEnabled"], true);
    assert_eq!(properties["SSESpecification"], json!({"SSEEnabled": true}));

    // Index name, key schema, projection.
    let expected_indexes = [
        (
            "task_arn-index",
            json!([{"AttributeName": "taskArn", "KeyType": "HASH"}]),
            "KEYS_ONLY",
        ),
        (
            "status-createdAt-index",
            json!([
                {"AttributeName": "status", "KeyType": "HASH"},
                {"AttributeName": "createdAt", "KeyType": "RANGE"}
            ]),
            "ALL",
        ),
    ];
    let indexes = properties["GlobalSecondaryIndexes"].as_array().unwrap();
    assert_eq!(indexes.len(), expected_indexes.len());
    for (name, key_schema, projection) in expected_indexes {
        let index = indexes
            .iter()
            .find(|index| index["IndexName"] == name)
            .unwrap_or_else(|| panic!("no index {name}"));
        assert_eq!(index["KeySchema"], key_schema, "{name}");
        assert_eq!(
            index["Projection"],
            json!({"ProjectionType": projection}),
            "{name}"
        );
    }

    // Exactly the key attributes, each once, all strings.
    let defined: BTreeSet<_> = properties["AttributeDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|definition| {
            assert_eq!(definition["AttributeType"], "S");
            definition["AttributeName"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        properties["AttributeDefinitions"].as_array().unwrap().len(),
        defined.len()
    );
    assert_eq!(
        defined,
        BTreeSet::from(["createdAt", "dispatchId", "status", "taskArn"])
    );
}

#[test]
fn the_rule_matches_stopped_ecs_tasks_of_one_cluster_or_of_any() {
    let template = template();
    let rule = properties(&template, "CompletionRule");
    assert_eq!(rule["Name"], "outpost-dispatch-completion");
    assert_eq!(rule["State"], "ENABLED");
    assert_eq!(
        rule["EventPattern"],
        json!({
            "source": ["aws.ecs"],
            "detail-type": ["ECS Task State Change"],
            "detail": {
                "lastStatus": ["STOPPED"],
                "clusterArn": [{"Fn::If": [
                    "AnyCluster",
                    {"exists": true},
                    {"Fn::If": [
                        "ClusterArnGiven",
                        {"Ref": "ClusterArn"},
                        {"Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:cluster/outpost-dev"}
                    ]}
                ]}]
            }
        })
    );
    assert_eq!(
        rule["Targets"],
        json!([{
            "Id": "outpost-dispatch-callback",
            "Arn": get_att("CallbackFunction", "Arn"),
            "RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400},
            "DeadLetterConfig": {"Arn": get_att("CompletionDeadLetterQueue", "Arn")}
        }])
    );
    assert_eq!(
        template["Conditions"]["ClusterArnGiven"],
        json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "ClusterArn"}, ""]}]})
    );
    // `*` listens to every cluster, as the runbook's rule (no cluster filter) does.
    assert_eq!(
        template["Conditions"]["AnyCluster"],
        json!({"Fn::Equals": [{"Ref": "ClusterArn"}, "*"]})
    );
    let parameter = &template["Parameters"]["ClusterArn"];
    assert_eq!(parameter["Default"], "");
    assert!(parameter["Description"]
        .as_str()
        .unwrap()
        .contains("* means every cluster"));
    let pattern = parameter["AllowedPattern"].as_str().unwrap();
    assert!(pattern.starts_with("^\\*$|^$|"), "{pattern}");
}

#[test]
fn only_the_rule_may_invoke_the_function_or_fill_its_dead_letter_queue() {
    let template = template();
    assert_eq!(
        *properties(&template, "CompletionRulePermission"),
        json!({
            "Action": "lambda:InvokeFunction",
            "FunctionName": get_att("CallbackFunction", "Arn"),
            "Principal": "events.amazonaws.com",
            "SourceArn": get_att("CompletionRule", "Arn")
        })
    );
    assert_eq!(
        *properties(&template, "CompletionDeadLetterQueuePolicy"),
        json!({
            "Queues": [reference("CompletionDeadLetterQueue")],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "EventBridgeDeadLetters",
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": ["sqs:SendMessage"],
                    "Resource": [get_att("CompletionDeadLetterQueue", "Arn")],
                    "Condition": {"ArnEquals": {"aws:SourceArn": get_att("CompletionRule", "Arn")}}
                }]
            }
        })
    );
}

#[test]
fn the_role_allows_exactly_the_calls_the_function_makes() {
    let template = template();
    let role = properties(&template, "CallbackRole");
    assert_eq!(
        role["AssumeRolePolicyDocument"]["Statement"],
        json!([{
            "Sid": "LambdaAssumesRole",
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": ["sts:AssumeRole"]
        }])
    );
    let log_group =
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${CallbackLogGroup}";
    // Sid, actions, resources, condition.
    let expected = [
        (
            "UpdateDispatches",
            json!(["dynamodb:UpdateItem", "dynamodb:GetItem"]),
            json!([get_att("DispatchTable", "Arn")]),
            None,
        ),
        (
            "FindDispatchByTaskArn",
            json!(["dynamodb:Query"]),
            json!([{"Fn::Sub": "${DispatchTable.Arn}/index/task_arn-index"}]),
            None,
        ),
        (
            "WriteLogs",
            json!(["logs:CreateLogStream", "logs:PutLogEvents"]),
            json!([{"Fn::Sub": log_group}, {"Fn::Sub": format!("{log_group}:log-stream:*")}]),
            None,
        ),
        (
            "PutCallbackMetrics",
            json!(["cloudwatch:PutMetricData"]),
            json!(["*"]),
            Some(json!({"StringEquals": {"cloudwatch:namespace": "Outpost/Callbacks"}})),
        ),
        (
            "SendFailedEvents",
            json!(["sqs:SendMessage"]),
            json!([get_att("CallbackFailureQueue", "Arn")]),
            None,
        ),
    ];
    let policies = role["Policies"].as_array().unwrap();
    assert_eq!(policies.len(), 1, "one inline policy");
    assert!(
        role.get("ManagedPolicyArns").is_none(),
        "no managed policies"
    );
    let statements = policies[0]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    assert_eq!(statements.len(), expected.len());
    for (statement, (sid, actions, resources, condition)) in statements.iter().zip(expected) {
        assert_eq!(statement["Sid"], sid);
        assert_eq!(statement["Effect"], "Allow", "{sid}");
        assert_eq!(statement["Action"], actions, "{sid}");
        assert_eq!(statement["Resource"], resources, "{sid}");
        assert_eq!(statement.get("Condition"), condition.as_ref(), "{sid}");
    }
}

#[test]
fn the_function_is_configured_as_the_runbook_says() {
    let template = template();
    let function = properties(&template, "CallbackFunction");
    let expected = [
        ("FunctionName", json!("outpost-dispatch-callback")),
        ("Runtime", json!("provided.al2023")),
        ("Handler", json!("bootstrap")),
        ("Architectures", json!([{"Ref": "Architecture"}])),
        ("MemorySize", json!(256)),
        ("Timeout", json!(30)),
        (
            "Code",
            json!({"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}}),
        ),
        ("Role", get_att("CallbackRole", "Arn")),
        (
            "Environment",
            json!({"Variables": {
                "METRICS_SINK": "emf",
                "TABLE_NAME": {"Ref": "DispatchTable"},
                "TASK_ARN_INDEX": "task_arn-index",
                "WORKER_CONTAINER": {"Ref": "WorkerContainer"}
            }}),
        ),
        (
            "LoggingConfig",
            // Text: the runbook's INIT_START search and EMF at every log level need it.
            json!({"LogFormat": "Text", "LogGroup": {"Ref": "CallbackLogGroup"}}),
        ),
    ];
    for (property, value) in expected {
        assert_eq!(function[property], value, "{property}");
    }
    let parameters = &template["Parameters"];
    assert_eq!(parameters["Architecture"]["Default"], "arm64");
    assert_eq!(
        parameters["Architecture"]["AllowedValues"],
        json!(["arm64", "x86_64"])
    );
    assert_eq!(parameters["WorkerContainer"]["Default"], "worker");
    assert!(
        parameters["CodeBucket"].get("Default").is_none(),
        "CodeBucket is required"
    );
    assert!(
        parameters["CodeKey"].get("Default").is_none(),
        "CodeKey is required"
    );

    assert_eq!(
        *properties(&template, "CallbackEventInvokeConfig"),
        json!({
            "FunctionName": {"Ref": "CallbackFunction"},
            "Qualifier": "$LATEST",
            "MaximumRetryAttempts": 2,
            "MaximumEventAgeInSeconds": 21600,
            "DestinationConfig": {"OnFailure": {"Destination": get_att("CallbackFailureQueue", "Arn")}}
        })
    );
}

#[test]
fn the_log_group_is_the_functions_with_a_retention_parameter() {
    let template = template();
    assert_eq!(
        *properties(&template, "CallbackLogGroup"),
        json!({"LogGroupName": "/aws/lambda/outpost-dispatch-callback", "RetentionInDays": {"Ref": "LogRetentionDays"}})
    );
    let retention = &template["Parameters"]["LogRetentionDays"];
    assert_eq!(retention["Type"], "Number");
    assert_eq!(retention["Default"], 30);
    let allowed = retention["AllowedValues"].as_array().unwrap();
    assert!(allowed.contains(&json!(30)) && allowed.contains(&json!(3653)));
}

#[test]
fn queues_are_encrypted_and_keep_messages_for_fourteen_days() {
    let template = template();
    let cases = [
        ("CallbackFailureQueue", "outpost-dispatch-callback-failures"),
        (
            "CompletionDeadLetterQueue",
            "outpost-dispatch-completion-dlq",
        ),
    ];
    for (logical_id, name) in cases {
        assert_eq!(
            *properties(&template, logical_id),
            json!({"QueueName": name, "SqsManagedSseEnabled": true, "MessageRetentionPeriod": 1_209_600}),
            "{logical_id}"
        );
    }
}

#[test]
fn outputs_carry_the_runbooks_quick_reference_card() {
    let template = template();
    let cases = [
        ("FunctionArn", get_att("CallbackFunction", "Arn")),
        ("FunctionName", reference("CallbackFunction")),
        ("RuleArn", get_att("CompletionRule", "Arn")),
        ("RuleName", reference("CompletionRule")),
        ("TableArn", get_att("DispatchTable", "Arn")),
        ("TableName", reference("DispatchTable")),
        ("LogGroupName", reference("CallbackLogGroup")),
        ("RoleName", reference("CallbackRole")),
        ("DashboardName", reference("CallbackDashboard")),
        ("FailureQueueUrl", reference("CallbackFailureQueue")),
        ("FailureQueueArn", get_att("CallbackFailureQueue", "Arn")),
        ("DeadLetterQueueUrl", reference("CompletionDeadLetterQueue")),
        (
            "DeadLetterQueueArn",
            get_att("CompletionDeadLetterQueue", "Arn"),
        ),
        ("ReconcilerFunctionName", reference("ReconcilerFunction")),
        ("ReconcilerLogGroupName", reference("ReconcilerLogGroup")),
        ("ReconcilerScheduleName", reference("ReconcilerSchedule")),
    ];
    let outputs = template["Outputs"].as_object().unwrap();
    assert_eq!(outputs.len(), cases.len());
    for (name, value) in cases {
        assert_eq!(outputs[name]["Value"], value, "{name}");
    }
}

#[test]
fn the_dashboard_body_is_json_once_the_region_is_filled_in() {
    let template = template();
    let dashboard = properties(&template, "CallbackDashboard");
    assert_eq!(dashboard["DashboardName"], "outpost-dispatch-callback");
    let body = dashboard["DashboardBody"]["Fn::Sub"].as_str().unwrap();
    let body: Value = serde_json::from_str(&body.replace("${AWS::Region}", "us-east-1")).unwrap();
    assert_eq!(body["widgets"][0]["properties"]["region"], "us-east-1");
}

/// Collects the names that `Ref`, `Fn::GetAtt`, `Fn::Sub` and `Fn::If` refer to.
fn collect_references(
    value: &Value,
    references: &mut BTreeSet<String>,
    conditions: &mut BTreeSet<String>,
) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(name)) = map.get("Ref") {
                references.insert(name.clone());
            }
            if let Some(Value::Array(parts)) = map.get("Fn::GetAtt") {
                references.insert(parts[0].as_str().unwrap().to_owned());
            }
            if let Some(Value::String(text)) = map.get("Fn::Sub") {
                for piece in text.split("${").skip(1) {
                    let name = piece.split('}').next().unwrap();
                    references.insert(name.split('.').next().unwrap().to_owned());
                }
            }
            if let Some(Value::Array(parts)) = map.get("Fn::If") {
                conditions.insert(parts[0].as_str().unwrap().to_owned());
            }
            map.values()
                .for_each(|value| collect_references(value, references, conditions));
        }
        Value::Array(values) => values
            .iter()
            .for_each(|value| collect_references(value, references, conditions)),
        _ => {}
    }
}

#[test]
fn every_reference_names_something_the_template_declares() {
    let template = template();
    let mut references = BTreeSet::new();
    let mut conditions = BTreeSet::new();
    collect_references(&template["Resources"], &mut references, &mut conditions);
    collect_references(&template["Outputs"], &mut references, &mut conditions);
    let declared: BTreeSet<String> = ["Parameters", "Resources"]
        .iter()
        .flat_map(|section| template[section].as_object().unwrap().keys().cloned())
        .collect();
    for name in &references {
        assert!(
            name.starts_with("AWS::") || declared.contains(name),
            "{name} is not declared"
        );
    }
    let declared_conditions: BTreeSet<String> = template["Conditions"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        conditions, declared_conditions,
        "every condition is declared and used"
    );
    // Every parameter is used somewhere.
    for parameter in template["Parameters"].as_object().unwrap().keys() {
        let used = references.contains(parameter)
            || template["Conditions"]
                .to_string()
                .contains(&format!("\"Ref\":\"{parameter}\""));
        assert!(used, "parameter {parameter} is never used");
    }
}

#[test]
fn checkov_skips_carry_a_reason() {
    let template = template();
    for (logical_id, resource) in template["Resources"].as_object().unwrap() {
        for skip in resource["Metadata"]["checkov"]["skip"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let id = skip["id"].as_str().unwrap();
            let comment = skip["comment"].as_str().unwrap();
            assert!(id.starts_with("CKV_AWS_"), "{logical_id}: {id}");
            assert!(
                comment.len() > 40 && comment.ends_with('.'),
                "{logical_id} {id}: {comment}"
            );
        }
    }
}

#[test]
fn the_dashboard_shows_every_metric_the_issue_lists() {
    let template = template();
    let body = properties(&template, "CallbackDashboard")["DashboardBody"]["Fn::Sub"]
        .as_str()
        .unwrap();
    let body: Value = serde_json::from_str(body).unwrap();
    // Each line is `[namespace, metric, dimension, value, ..., {"stat": ..., "label": ...}]`;
    // a line by skip reason reads "<metric> by SkipReason <reason>".
    let lines: BTreeSet<(String, String, String)> = body["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|widget| widget["properties"]["metrics"].as_array().unwrap())
        .map(|line| {
            let line = line.as_array().unwrap();
            let text = |value: &Value| value.as_str().unwrap().to_owned();
            let dimensions: Vec<String> = line[2..line.len() - 1].iter().map(text).collect();
            let mut metric = text(&line[1]);
            if let Some(at) = dimensions.iter().position(|name| name == "SkipReason") {
                metric = format!("{metric} by SkipReason {}", dimensions[at + 1]);
            }
            let stat = text(&line.last().unwrap()["stat"]);
            (text(&line[0]), metric, stat)
        })
        .collect();
    let expected = [
        ("AWS/Lambda", "Invocations", "Sum"),
        ("AWS/Lambda", "Errors", "Sum"),
        ("AWS/Lambda", "Duration", "p50"),
        ("AWS/Lambda", "Duration", "p95"),
        ("AWS/Lambda", "Duration", "p99"),
        ("AWS/Lambda", "ConcurrentExecutions", "Maximum"),
        ("AWS/Lambda", "Throttles", "Sum"),
        ("Outpost/Callbacks", "CallbackLatencyMs", "p95"),
        ("Outpost/Callbacks", "DispatchUpdatesSuccessful", "Sum"),
        ("Outpost/Callbacks", "DispatchUpdatesSkipped", "Sum"),
        ("Outpost/Callbacks", "DispatchUpdatesFailed", "Sum"),
        (
            "Outpost/Callbacks",
            "DispatchUpdatesSkipped by SkipReason NoDispatchId",
            "Sum",
        ),
        (
            "Outpost/Callbacks",
            "DispatchUpdatesSkipped by SkipReason AlreadyTerminal",
            "Sum",
        ),
        ("AWS/DynamoDB", "WriteThrottledRequests", "Sum"),
        ("AWS/DynamoDB", "SuccessfulRequestLatency", "Average"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum"),
    ];
    for (namespace, metric, stat) in expected {
        let wanted = (namespace.to_owned(), metric.to_owned(), stat.to_owned());
        assert!(lines.contains(&wanted), "the dashboard lacks {wanted:?}");
    }
}

#[test]
fn the_stack_is_a_pure_function_of_the_config() {
    let config = Config::runbook();
    let first = serde_json::to_string(&synth::stack::build(&config)).unwrap();
    let second = serde_json::to_string(&synth::stack::build(&config.clone())).unwrap();
    assert_eq!(first, second);
}

#[test]
fn the_config_holds_the_runbooks_names() {
    let config = Config::runbook();
    let names = [
        (config.table.task_arn_index.index.name, "task_arn-index"),
        (
            config.table.status_index.index.name,
            "status-createdAt-index",
        ),
        (
            config.failure_queue.name,
            "outpost-dispatch-callback-failures",
        ),
        (
            config.dead_letter_queue.name,
            "outpost-dispatch-completion-dlq",
        ),
    ];
    for (actual, expected) in names {
        assert_eq!(actual, expected);
    }
}

#[test]
fn the_table_definition_is_the_templates() {
    let table = synth::stack::table::dispatch_table(&Config::runbook());
    assert_eq!(
        serde_json::to_value(&table).unwrap(),
        *properties(&template(), "DispatchTable")
    );
}

#[test]
fn every_output_a_tool_reads_names_its_resource() {
    // `outpost-ops` finds each resource by the output's key, or by the logical ID where
    // an output is missing: both must name the same resource.
    let template = template();
    for output in contract::outputs::ALL {
        let value = &template["Outputs"][output.key]["Value"];
        resource(&template, output.logical_id);
        assert_eq!(
            value,
            &reference(output.logical_id),
            "output {} should be the Ref of {}",
            output.key,
            output.logical_id
        );
    }
}

#[test]
fn the_contract_lists_every_alarm_of_the_stack() {
    // `outpost-ops health` falls back to this list where a stack's alarms have no name.
    let template = template();
    let mut in_template: Vec<String> = resources_of_type(&template, "AWS::CloudWatch::Alarm")
        .iter()
        .map(|(_, alarm)| {
            alarm["Properties"]["AlarmName"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    in_template.sort();
    let mut listed: Vec<&str> = contract::resources::alarms::ALL.to_vec();
    listed.sort();
    assert_eq!(in_template, listed);
}

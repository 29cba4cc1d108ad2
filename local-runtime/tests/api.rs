//! The Runtime API driven by a plain hyper HTTP/1.1 client that plays the function.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{HeaderMap, Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use local_runtime::{ApiConfig, InvocationError, RuntimeApi};
use serde_json::{json, Value};
use tokio::net::TcpStream;

/// Generous bound for anything that should happen at once, so a hang fails instead of stalling.
const SOON: Duration = Duration::from_secs(2);

/// One keep-alive connection to the API, as the runtime client holds.
struct FakeFunction {
    sender: SendRequest<Full<Bytes>>,
}

/// An event as the function receives it.
struct Event {
    headers: HeaderMap,
    body: Value,
}

impl Event {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_else(|| panic!("missing header {name}"))
    }

    fn request_id(&self) -> String {
        self.header("lambda-runtime-aws-request-id").to_owned()
    }
}

impl FakeFunction {
    async fn connect(address: SocketAddr) -> Self {
        let stream = TcpStream::connect(address).await.expect("connect");
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        tokio::spawn(connection);
        Self { sender }
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (StatusCode, HeaderMap, Bytes) {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::from(body.to_owned())))
            .expect("request");
        self.sender.ready().await.expect("connection ready");
        let response = self.sender.send_request(request).await.expect("send");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("body").to_bytes();
        (parts.status, parts.headers, body)
    }

    async fn next(&mut self) -> Event {
        let (status, headers, body) = self
            .send(Method::GET, "/2018-06-01/runtime/invocation/next", &[], "")
            .await;
        assert_eq!(status, StatusCode::OK);
        Event {
            headers,
            body: serde_json::from_slice(&body).expect("event is JSON"),
        }
    }

    async fn respond(&mut self, request_id: &str, body: &str) -> (StatusCode, Value) {
        let path = format!("/2018-06-01/runtime/invocation/{request_id}/response");
        let (status, _, body) = self.send(Method::POST, &path, &[], body).await;
        (
            status,
            serde_json::from_slice(&body).expect("API answers JSON"),
        )
    }

    async fn fail(&mut self, request_id: &str, header: Option<&str>, body: &str) -> StatusCode {
        let path = format!("/2018-06-01/runtime/invocation/{request_id}/error");
        let headers: Vec<(&str, &str)> = header
            .map(|value| ("lambda-runtime-function-error-type", value))
            .into_iter()
            .collect();
        self.send(Method::POST, &path, &headers, body).await.0
    }
}

async fn within<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(SOON, future)
        .await
        .expect("did not finish in time")
}

#[tokio::test]
async fn invoke_round_trips_with_lambda_headers() {
    let api = RuntimeApi::start_with(ApiConfig {
        function_name: "callback".into(),
        timeout: Duration::from_secs(10),
    })
    .await
    .unwrap();
    let mut function = FakeFunction::connect(api.address()).await;
    let runtime = tokio::spawn(async move {
        let event = function.next().await;
        let id = event.request_id();
        let (status, body) = function
            .respond(&id, &json!({"echo": event.body}).to_string())
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        assert_eq!(body, json!({"status": "OK"}));
        event
    });

    let before_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let response = within(api.invoke(json!({"n": 1}))).await.unwrap();
    assert_eq!(response, json!({"echo": {"n": 1}}));

    let event = runtime.await.unwrap();
    assert_eq!(event.header("content-type"), "application/json");
    assert_eq!(
        event.header("lambda-runtime-invoked-function-arn"),
        "arn:aws:lambda:us-east-1:123456789012:function:callback"
    );
    let deadline: u128 = event.header("lambda-runtime-deadline-ms").parse().unwrap();
    assert!(
        deadline >= before_ms + 10_000 && deadline <= before_ms + 12_000,
        "deadline {deadline} is not about 10 s after {before_ms}"
    );
    assert!(event
        .header("lambda-runtime-trace-id")
        .starts_with("Root=1-"));
    assert_eq!(event.request_id().len(), 36);
}

#[tokio::test]
async fn function_errors_resolve_the_invocation() {
    let api = RuntimeApi::start().await.unwrap();
    let mut function = FakeFunction::connect(api.address()).await;
    let runtime = tokio::spawn(async move {
        let event = function.next().await;
        let body = r#"{"errorType":"MyError","errorMessage":"boom","stackTrace":[]}"#;
        let status = function
            .fail(&event.request_id(), Some("unhandled"), body)
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);

        // A body that is not JSON still produces an error, typed by the header.
        let event = function.next().await;
        let status = function
            .fail(&event.request_id(), Some("Runtime.Crash"), "oops")
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    });

    assert_eq!(
        within(api.invoke(json!({}))).await,
        Err(InvocationError::Function {
            error_type: "MyError".into(),
            error_message: "boom".into(),
        })
    );
    assert_eq!(
        within(api.invoke(json!({}))).await,
        Err(InvocationError::Function {
            error_type: "Runtime.Crash".into(),
            error_message: "oops".into(),
        })
    );
    runtime.await.unwrap();
}

#[tokio::test]
async fn init_error_fails_pending_and_later_invocations() {
    let api = Arc::new(RuntimeApi::start().await.unwrap());
    let pending = tokio::spawn({
        let api = Arc::clone(&api);
        async move { api.invoke(json!({"queued": true})).await }
    });
    within(async {
        while api.queued() == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await;

    let mut function = FakeFunction::connect(api.address()).await;
    let body = r#"{"errorType":"ConfigError","errorMessage":"TABLE_NAME is not set"}"#;
    let (status, _, _) = function
        .send(
            Method::POST,
            "/2018-06-01/runtime/init/error",
            &[("lambda-runtime-function-error-type", "Runtime.InitError")],
            body,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let expected = InvocationError::Init {
        error_type: "ConfigError".into(),
        error_message: "TABLE_NAME is not set".into(),
    };
    assert_eq!(within(pending).await.unwrap(), Err(expected.clone()));
    assert_eq!(within(api.invoke(json!({}))).await, Err(expected.clone()));
    assert_eq!(api.init_error(), Some(expected));
}

#[tokio::test]
async fn request_ids_are_unique() {
    let api = RuntimeApi::start().await.unwrap();
    let mut function = FakeFunction::connect(api.address()).await;
    let runtime = tokio::spawn(async move {
        let mut ids = Vec::new();
        for _ in 0..50 {
            let event = function.next().await;
            let id = event.request_id();
            function.respond(&id, &json!(id).to_string()).await;
            ids.push(id);
        }
        ids
    });
    let mut answered = Vec::new();
    for n in 0..50 {
        answered.push(within(api.invoke(json!(n))).await.unwrap());
    }
    let ids = runtime.await.unwrap();
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), 50);
    // Each invocation got the response to its own request ID.
    let answered: Vec<String> = answered
        .into_iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(answered, ids);
}

#[tokio::test]
async fn first_poll_is_recorded_when_next_is_first_called() {
    let api = RuntimeApi::start().await.unwrap();
    assert_eq!(api.try_first_poll(), None);
    let before = Instant::now();
    let mut function = FakeFunction::connect(api.address()).await;
    // The poll blocks because nothing is queued; its arrival is what counts.
    let poll = tokio::spawn(async move { function.next().await });
    let first = within(api.first_poll()).await;
    assert!(first >= before);
    assert_eq!(api.try_first_poll(), Some(first));
    poll.abort();
}

#[tokio::test]
async fn concurrent_invocations_are_delivered_in_order() {
    let api = Arc::new(RuntimeApi::start().await.unwrap());
    let mut invocations = Vec::new();
    for n in 0..5 {
        let api_for_task = Arc::clone(&api);
        invocations.push(tokio::spawn(
            async move { api_for_task.invoke(json!(n)).await },
        ));
        within(async {
            while api.queued() <= n {
                tokio::task::yield_now().await;
            }
        })
        .await;
    }

    let mut function = FakeFunction::connect(api.address()).await;
    let mut delivered = Vec::new();
    for _ in 0..5 {
        let event = within(function.next()).await;
        delivered.push(event.body.clone());
        let answer = json!({"answer": event.body});
        function
            .respond(&event.request_id(), &answer.to_string())
            .await;
    }
    assert_eq!(
        delivered,
        [json!(0), json!(1), json!(2), json!(3), json!(4)]
    );
    for (n, invocation) in invocations.into_iter().enumerate() {
        assert_eq!(within(invocation).await.unwrap(), Ok(json!({"answer": n})));
    }
}

#[tokio::test]
async fn long_poll_and_posts_share_the_api_across_connections() {
    let api = Arc::new(RuntimeApi::start().await.unwrap());
    // One connection long-polls before any event exists, as the runtime client does on start.
    let mut poller = FakeFunction::connect(api.address()).await;
    let poll = tokio::spawn(async move { poller.next().await });
    within(api.first_poll()).await;

    let invocation = tokio::spawn({
        let api = Arc::clone(&api);
        async move { api.invoke(json!("late")).await }
    });
    let event = within(poll).await.unwrap();
    assert_eq!(event.body, json!("late"));
    // The response arrives on a different connection.
    let mut other = FakeFunction::connect(api.address()).await;
    other.respond(&event.request_id(), "\"done\"").await;
    assert_eq!(within(invocation).await.unwrap(), Ok(json!("done")));
}

#[tokio::test]
async fn bad_requests_get_the_real_api_errors() {
    let api = RuntimeApi::start().await.unwrap();
    let mut function = FakeFunction::connect(api.address()).await;

    let (status, body) = function.respond("no-such-id", "{}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errorType"], "InvalidRequestID");
    let status = function.fail("no-such-id", None, "{}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, _, body) = function
        .send(Method::GET, "/2018-06-01/runtime/nope", &[], "")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(serde_json::from_slice::<Value>(&body).is_ok());
    let (status, _, _) = function
        .send(Method::POST, "/2018-06-01/runtime/invocation/next", &[], "")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A second answer to an invocation that was already answered is an unknown ID too.
    let runtime = tokio::spawn(async move {
        let event = function.next().await;
        let id = event.request_id();
        assert_eq!(function.respond(&id, "1").await.0, StatusCode::ACCEPTED);
        assert_eq!(function.respond(&id, "2").await.0, StatusCode::BAD_REQUEST);
    });
    assert_eq!(within(api.invoke(json!({}))).await, Ok(json!(1)));
    within(runtime).await.unwrap();
}

#[tokio::test]
async fn malformed_response_is_an_error_not_a_panic() {
    let api = RuntimeApi::start().await.unwrap();
    let mut function = FakeFunction::connect(api.address()).await;
    let runtime = tokio::spawn(async move {
        let event = function.next().await;
        let path = format!(
            "/2018-06-01/runtime/invocation/{}/response",
            event.request_id()
        );
        let (status, _, _) = function.send(Method::POST, &path, &[], "{not json").await;
        assert_eq!(status, StatusCode::ACCEPTED);
    });
    let outcome = within(api.invoke(json!({}))).await;
    assert!(
        matches!(outcome, Err(InvocationError::InvalidResponse { .. })),
        "{outcome:?}"
    );
    runtime.await.unwrap();
}

#[tokio::test]
async fn unanswered_invocation_times_out_and_late_answer_is_rejected() {
    let timeout = Duration::from_millis(100);
    let api = RuntimeApi::start_with(ApiConfig {
        timeout,
        ..ApiConfig::default()
    })
    .await
    .unwrap();
    let mut function = FakeFunction::connect(api.address()).await;
    let runtime = tokio::spawn(async move {
        let event = function.next().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        function.respond(&event.request_id(), "{}").await.0
    });
    assert_eq!(
        within(api.invoke(json!({}))).await,
        Err(InvocationError::TimedOut { timeout })
    );
    assert_eq!(within(runtime).await.unwrap(), StatusCode::BAD_REQUEST);
}

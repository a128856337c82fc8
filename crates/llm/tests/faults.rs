//! The client against fake providers over real HTTP, in both wire protocols, plain
//! and streamed: every fault ends in the right error kind or a successful retry.

use llm::testing::{FakeLlm, Reply};
use llm::{
    ApiKey, CancellationToken, ChatRequest, Client, ErrorKind, Message, ModelSpec, Params,
    ProviderKind, RetryPolicy, StreamEvent,
};
use std::sync::Arc;
use std::time::Duration;

const KEY: &str = "sk-test-0123456789abcdef";

/// Kimi speaks OpenAI chat completions; Kimi Coding speaks Anthropic messages.
const PROTOCOLS: [ProviderKind; 2] = [ProviderKind::Kimi, ProviderKind::KimiCode];

fn params(timeout_ms: u64, retries: u32) -> Params {
    Params {
        temperature: Some(0.2),
        max_tokens: Some(256),
        timeout: Duration::from_millis(timeout_ms),
        retries,
    }
}

fn client(fake: &FakeLlm, kind: ProviderKind, model: &str, p: Params) -> Client {
    let spec = ModelSpec {
        kind,
        base_url: fake.base_url(kind.protocol()),
        model: model.into(),
        api_key: Some(ApiKey::new(KEY)),
        params: p,
    };
    Client::new(&spec, Arc::new(llm::describe_offline))
        .unwrap()
        // Short waits keep the suite quick; the policy itself is unit-tested.
        .with_policy(RetryPolicy {
            base: Duration::from_millis(20),
            cap: Duration::from_millis(100),
            max_wait: Duration::from_secs(5),
        })
}

fn request(stream: bool) -> ChatRequest {
    ChatRequest {
        system: Some("Answer with one word.".into()),
        messages: vec![Message::user("ping")],
        json: true,
        stream,
        ..ChatRequest::default()
    }
}

async fn call(
    c: &Client,
    stream: bool,
) -> (Result<llm::ChatReply, llm::LlmError>, Vec<StreamEvent>) {
    let mut events = Vec::new();
    let r = c
        .chat(
            &request(stream),
            &mut |e| events.push(e),
            &CancellationToken::new(),
        )
        .await;
    (r, events)
}

async fn each_mode(test: impl AsyncFn(ProviderKind, bool)) {
    for kind in PROTOCOLS {
        for stream in [false, true] {
            test(kind, stream).await;
        }
    }
}

#[tokio::test]
async fn success_in_both_protocols_plain_and_streamed() {
    each_mode(async |kind, stream| {
        let fake = FakeLlm::start().await;
        fake.require_key(KEY)
            .push(Reply::Text("pong and more".into()));
        let c = client(&fake, kind, "kimi-k2.6", params(5_000, 0));
        let (r, events) = call(&c, stream).await;
        let reply = r.unwrap_or_else(|e| panic!("{kind} stream={stream}: {e}"));
        assert_eq!(reply.text, "pong and more");
        assert_eq!(reply.model, "kimi-k2.6");
        assert_eq!(reply.attempts, 1);
        assert_eq!(reply.usage.input_tokens, 11, "{kind} stream={stream}");
        assert_eq!(reply.usage.output_tokens, 3, "{kind} stream={stream}");
        let streamed: String = events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        if stream {
            assert_eq!(streamed, "pong and more");
            assert!(events.len() > 1, "the answer arrives in pieces");
        } else {
            assert!(events.is_empty());
        }
        let req = &fake.requests()[0];
        assert_eq!(req.body["stream"], stream);
        assert_eq!(req.body["model"], "kimi-k2.6");
        if kind == ProviderKind::Kimi {
            assert_eq!(req.path, "/v1/chat/completions");
            assert_eq!(req.headers["authorization"], format!("Bearer {KEY}"));
            assert_eq!(req.body["messages"][0]["role"], "system");
            assert_eq!(req.body["response_format"]["type"], "json_object");
            assert_eq!(req.body["max_tokens"], 256);
        } else {
            assert_eq!(req.path, "/v1/messages");
            assert_eq!(req.headers["x-api-key"], KEY);
            assert_eq!(req.headers["anthropic-version"], "2023-06-01");
            assert_eq!(req.body["system"], "Answer with one word.");
            assert_eq!(req.body["max_tokens"], 256);
            assert!(req.body.get("response_format").is_none());
        }
    })
    .await;
}

#[tokio::test]
async fn reasoning_is_reported_but_never_part_of_the_answer() {
    each_mode(async |kind, stream| {
        let fake = FakeLlm::start().await;
        fake.push(Reply::Thinking {
            reasoning: "let me think {not json".into(),
            text: "{\"ok\":true}".into(),
        });
        let (r, events) = call(&client(&fake, kind, "m", params(5_000, 0)), stream).await;
        let reply = r.unwrap();
        assert_eq!(reply.text, "{\"ok\":true}");
        assert_eq!(reply.reasoning, "let me think {not json");
        if stream {
            assert!(
                events.iter().any(
                    |e| matches!(e, StreamEvent::Reasoning { text } if text.contains("think"))
                )
            );
        }
    })
    .await;
}

#[tokio::test]
async fn wrong_key_is_auth_and_the_echoed_key_is_scrubbed() {
    each_mode(async |kind, stream| {
        let fake = FakeLlm::start().await;
        fake.require_key("sk-the-right-one-0000000000");
        let (r, _) = call(&client(&fake, kind, "m", params(5_000, 2)), stream).await;
        let e = r.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Auth, "{e}");
        assert_eq!(e.status, Some(401));
        assert!(!e.message.contains(KEY), "{}", e.message);
        assert!(e.message.contains("sk-…cdef"), "{}", e.message);
        assert_eq!(fake.requests().len(), 1, "auth failures are not retried");
    })
    .await;
}

#[tokio::test]
async fn unknown_model_is_not_found() {
    each_mode(async |kind, stream| {
        let fake = FakeLlm::start().await;
        fake.known_models(&["kimi-k2.6"]);
        let (r, _) = call(
            &client(&fake, kind, "kimi-latest", params(5_000, 2)),
            stream,
        )
        .await;
        let e = r.unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
        assert!(e.message.contains("kimi-latest"), "{}", e.message);
    })
    .await;
}

#[tokio::test]
async fn rate_limit_waits_for_retry_after_then_succeeds() {
    each_mode(async |kind, stream| {
        let fake = FakeLlm::start().await;
        fake.push(Reply::Status {
            status: 429,
            message: "rate limit reached".into(),
            retry_after: Some("1".into()),
        })
        .push(Reply::Text("ok".into()));
        let (r, events) = call(&client(&fake, kind, "m", params(5_000, 2)), stream).await;
        let reply = r.unwrap();
        assert_eq!(reply.attempts, 2);
        let reqs = fake.requests();
        assert_eq!(reqs.len(), 2);
        // Measured by the server: the retry came no sooner than it was asked to.
        assert!(reqs[1].at.duration_since(reqs[0].at) >= Duration::from_millis(990));
        assert!(events.iter().any(|e| matches!(e,
            StreamEvent::Retrying { kind: ErrorKind::RateLimited, wait_ms, .. } if *wait_ms >= 1000)));
    })
    .await;
}

#[tokio::test]
async fn rate_limit_past_the_retries_is_rate_limited() {
    let fake = FakeLlm::start().await;
    fake.always(Reply::Status {
        status: 429,
        message: "slow down".into(),
        retry_after: None,
    });
    let (r, _) = call(
        &client(&fake, ProviderKind::Kimi, "m", params(5_000, 2)),
        false,
    )
    .await;
    let e = r.unwrap_err();
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert!(e.message.contains("after 3 attempts"), "{}", e.message);
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn a_spent_quota_is_not_retried() {
    let fake = FakeLlm::start().await;
    fake.always(Reply::Status {
        status: 429,
        message: "Your account has insufficient quota".into(),
        retry_after: None,
    });
    let (r, _) = call(
        &client(&fake, ProviderKind::Kimi, "m", params(5_000, 3)),
        false,
    )
    .await;
    assert_eq!(r.unwrap_err().kind, ErrorKind::RateLimited);
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn server_error_then_success_is_retried() {
    each_mode(async |kind, stream| {
        let fake = FakeLlm::start().await;
        fake.push(Reply::Status {
            status: 500,
            message: "internal".into(),
            retry_after: None,
        })
        .push(Reply::Status {
            status: 503,
            message: "busy".into(),
            retry_after: None,
        })
        .push(Reply::Text("ok".into()));
        let (r, _) = call(&client(&fake, kind, "m", params(5_000, 2)), stream).await;
        assert_eq!(r.unwrap().attempts, 3);
    })
    .await;
}

#[tokio::test]
async fn server_errors_past_the_retries_are_provider_errors_with_the_message() {
    let fake = FakeLlm::start().await;
    fake.always(Reply::Status {
        status: 502,
        message: "upstream exploded".into(),
        retry_after: None,
    });
    let (r, _) = call(
        &client(&fake, ProviderKind::KimiCode, "m", params(5_000, 1)),
        true,
    )
    .await;
    let e = r.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Provider, Some(502)));
    assert!(e.message.contains("upstream exploded"), "{}", e.message);
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    each_mode(async |kind, stream| {
        let fake = FakeLlm::start().await;
        fake.always(Reply::Hang);
        let (r, _) = call(&client(&fake, kind, "m", params(300, 2)), stream).await;
        let e = r.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
        assert!(e.message.contains("300 ms"), "{}", e.message);
        assert_eq!(fake.requests().len(), 1, "a timeout is not retried");
    })
    .await;
}

#[tokio::test]
async fn a_malformed_body_is_a_bad_response() {
    each_mode(async |kind, stream| {
        let fake = FakeLlm::start().await;
        fake.push(Reply::Malformed("<html>gateway says hi".into()));
        let (r, _) = call(&client(&fake, kind, "m", params(5_000, 2)), stream).await;
        assert_eq!(r.unwrap_err().kind, ErrorKind::BadResponse);
        let fake = FakeLlm::start().await;
        fake.push(Reply::Malformed("{\"unexpected\": 1}".into()));
        let (r, _) = call(&client(&fake, kind, "m", params(5_000, 2)), stream).await;
        assert_eq!(r.unwrap_err().kind, ErrorKind::BadResponse);
    })
    .await;
}

#[tokio::test]
async fn a_stream_cut_in_the_middle_is_an_error_not_half_an_answer() {
    for kind in PROTOCOLS {
        let fake = FakeLlm::start().await;
        fake.push(Reply::Cut(
            "{\"dsl\": \"modgate.patch/v1\", \"operations\"".into(),
        ));
        let (r, events) = call(&client(&fake, kind, "m", params(5_000, 2)), true).await;
        let e = r.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Network, "{kind}: {e}");
        assert!(
            !events.is_empty(),
            "the pieces before the cut were reported"
        );
        assert_eq!(
            fake.requests().len(),
            1,
            "a half-streamed answer is not retried"
        );

        let fake = FakeLlm::start().await;
        fake.push(Reply::EndsEarly("{\"dsl\"".into()));
        let (r, _) = call(&client(&fake, kind, "m", params(5_000, 2)), true).await;
        let e = r.unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadResponse, "{kind}: {e}");
        assert!(e.message.contains("ended before"), "{}", e.message);
    }
}

#[tokio::test]
async fn a_refused_connection_is_a_network_error_after_retries() {
    // A socket bound but not listening: connections to its port are refused, and the
    // port stays ours for the whole test (a listener bound and dropped would free it
    // for another test's fake server, which would then answer this call).
    let reserved = tokio::net::TcpSocket::new_v4().unwrap();
    reserved.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = reserved.local_addr().unwrap().port();
    let spec = ModelSpec {
        kind: ProviderKind::OpenAiCompatible,
        base_url: format!("http://127.0.0.1:{port}/v1"),
        model: "qwen".into(),
        api_key: None,
        params: params(2_000, 1),
    };
    let c = Client::new(&spec, Arc::new(llm::describe_offline))
        .unwrap()
        .with_policy(RetryPolicy {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(20),
            max_wait: Duration::from_secs(1),
        });
    let (r, events) = call(&c, false).await;
    assert_eq!(r.unwrap_err().kind, ErrorKind::Network);
    assert_eq!(events.len(), 1, "one retry announced");
}

#[tokio::test]
async fn cancelling_ends_a_call_at_once() {
    let fake = FakeLlm::start().await;
    fake.always(Reply::Hang);
    let c = client(&fake, ProviderKind::Kimi, "m", params(60_000, 0));
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        trigger.cancel();
    });
    let e = c
        .chat(&request(true), &mut |_| {}, &cancel)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Cancelled);
}

#[tokio::test]
async fn the_offline_provider_needs_no_network() {
    let spec = ModelSpec {
        kind: ProviderKind::Builtin,
        base_url: String::new(),
        model: "builtin".into(),
        api_key: None,
        params: Params::default(),
    };
    let c = Client::new(&spec, Arc::new(llm::describe_offline)).unwrap();
    let (r, _) = call(&c, false).await;
    let reply = r.unwrap();
    assert_eq!(reply.model, "builtin");
    assert!(reply.text.contains("offline"));
}

#[tokio::test]
async fn models_are_listed_in_both_protocols() {
    for kind in PROTOCOLS {
        let fake = FakeLlm::start().await;
        fake.known_models(&["kimi-k2.6", "kimi-k2.5"]);
        let c = client(&fake, kind, "kimi-k2.6", params(5_000, 0));
        assert_eq!(
            c.list_models().await.unwrap(),
            vec!["kimi-k2.6", "kimi-k2.5"]
        );
    }
}

#[test]
fn a_base_url_that_is_not_http_is_refused_before_any_call() {
    for base in ["ftp://x", "not a url", ""] {
        let spec = ModelSpec {
            kind: ProviderKind::OpenAiCompatible,
            base_url: base.into(),
            model: "m".into(),
            api_key: None,
            params: Params::default(),
        };
        let e = Client::new(&spec, Arc::new(llm::describe_offline))
            .err()
            .unwrap();
        assert_eq!(e.kind, ErrorKind::NotFound, "{base}");
    }
}

//! What the client adds to a model call: a round trip to a local fake provider that
//! answers at once, plain and streamed, in both protocols. The real cost of a call is
//! the model's; this shows ours is negligible beside it.

use criterion::{Criterion, criterion_group, criterion_main};
use llm::testing::{FakeLlm, Reply};
use llm::{
    ApiKey, CancellationToken, ChatRequest, Client, Message, ModelSpec, Params, ProviderKind,
};
use std::sync::Arc;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fake = rt.block_on(FakeLlm::start());
    fake.pace(Duration::ZERO).always(Reply::Text(
        "{\"dsl\":\"modgate.patch/v1\",\"operations\":[]} and some more words to stream".into(),
    ));
    for kind in [ProviderKind::Kimi, ProviderKind::KimiCode] {
        let spec = ModelSpec {
            kind,
            base_url: fake.base_url(kind.protocol()),
            model: "m".into(),
            api_key: Some(ApiKey::new("sk-bench-0000000000000000")),
            params: Params::default(),
        };
        let client = Client::new(&spec, Arc::new(llm::describe_offline)).unwrap();
        for stream in [false, true] {
            let req = ChatRequest {
                messages: vec![Message::user("ping")],
                stream,
                ..ChatRequest::default()
            };
            let cancel = CancellationToken::new();
            let name = format!("{kind} {}", if stream { "sse" } else { "plain" });
            c.bench_function(&name, |b| {
                b.to_async(&rt)
                    .iter(|| async { client.chat(&req, &mut |_| {}, &cancel).await.unwrap() })
            });
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! The whole CRM suite on the base spec, in process: parse the embedded files, run
//! every scenario in its own sandbox (in parallel), compute coverage and the gate.
//! Target: under 100 ms.

use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let base = spec::base_spec();
    c.bench_function("crm suite on the base spec", |b| {
        b.to_async(&rt).iter(|| async {
            let suite = scenario::crm_suite().unwrap();
            let r = scenario::run_suite(&base, None, suite, 0.8).await.unwrap();
            assert_eq!(r.failed, 0);
            r
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

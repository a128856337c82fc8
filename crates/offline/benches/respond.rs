//! The offline engine's answer time, which is the whole of a builtin generation's
//! model time: a field request, an object request, and a Chinese request on top of a
//! module that already has several operations.

use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let base = spec::base_spec();
    c.bench_function("field (en)", |b| {
        b.iter(|| {
            offline::respond(
                &base,
                None,
                "add an integer field loyaltyPoints to Customer with default 0 and min 0",
            )
            .unwrap()
        })
    });
    c.bench_function("object with fields (en)", |b| {
        b.iter(|| {
            offline::respond(&base, None, "add an object Campaign with fields name (string, required), budget (decimal), startsOn (date)")
                .unwrap()
        })
    });
    let current = offline::respond(
        &base,
        None,
        "add an object Campaign with fields name (string); add a decimal field budget to Campaign",
    )
    .unwrap();
    c.bench_function("field (zh) refining a patch", |b| {
        b.iter(|| {
            offline::respond(
                &base,
                Some(&current),
                "给客户添加一个整数字段 积分，默认值 0",
            )
            .unwrap()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Validation + dry run (with the unified diff) of:
//! - a 20-operation patch on the base CRM (target: under 1 ms),
//! - a 500-operation patch on a generated 200-object spec (target: under 50 ms).

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use std::hint::black_box;

fn twenty_ops() -> Vec<u8> {
    let mut ops = Vec::new();
    for i in 0..8 {
        ops.push(json!({ "scope": "object", "op": "add", "target": { "object": "Customer", "field": format!("extra{i}") },
                         "value": { "type": "integer", "min": 0, "default": 0 } }));
    }
    ops.push(json!({ "scope": "object", "op": "add", "target": { "object": "Campaign" },
                     "value": { "label": "Campaign", "fields": { "name": { "type": "string", "required": true, "maxLength": 120 } } } }));
    ops.push(
        json!({ "scope": "page", "op": "add", "target": { "page": "campaign.list" },
                     "value": { "type": "list", "object": "Campaign", "columns": ["name"] } }),
    );
    ops.push(
        json!({ "scope": "menu", "op": "add", "target": { "menu": "crm.campaigns" },
                     "value": { "label": "Campaigns", "parent": "crm", "page": "campaign.list" } }),
    );
    ops.push(json!({ "scope": "state", "op": "add", "target": { "object": "Order", "state": "onHold" } }));
    ops.push(json!({ "scope": "state", "op": "add", "target": { "object": "Order", "transition": "hold" }, "value": { "from": ["confirmed"], "to": "onHold" } }));
    ops.push(json!({ "scope": "state", "op": "add", "target": { "object": "Order", "transition": "resume" }, "value": { "from": ["onHold"], "to": "confirmed" } }));
    ops.push(json!({ "scope": "page", "op": "reorder", "target": { "page": "customer.form", "list": "sections" }, "value": ["account", "contact"] }));
    ops.push(json!({ "scope": "object", "op": "update", "target": { "object": "Customer", "field": "name" }, "value": { "label": "Full name" } }));
    ops.push(json!({ "scope": "permission", "op": "add", "target": { "role": "sales", "object": "Campaign" }, "value": ["read", "create"] }));
    ops.push(json!({ "scope": "permission", "op": "add", "target": { "role": "support", "object": "Order" }, "value": ["transition:hold"] }));
    ops.push(json!({ "scope": "menu", "op": "reorder", "target": { "menu": "crm" }, "value": ["crm.orders", "crm.customers", "crm.tracking", "crm.transactions", "crm.campaigns"] }));
    ops.push(json!({ "scope": "object", "op": "update", "target": { "object": "Customer" }, "value": { "description": "People we sell to" } }));
    assert_eq!(ops.len(), 20);
    serde_json::to_vec(&json!({ "dsl": "modgate.patch/v1", "title": "twenty", "operations": ops }))
        .unwrap()
}

/// A spec of 200 objects with 10 fields each, pages, menus and a role.
fn big_spec() -> spec::Spec {
    let mut objects = serde_json::Map::new();
    let mut pages = serde_json::Map::new();
    let mut menu_children = Vec::new();
    let mut grants = serde_json::Map::new();
    for i in 0..200 {
        let name = format!("Obj{i}");
        let mut fields = serde_json::Map::new();
        fields.insert(
            "name".into(),
            json!({ "type": "string", "required": true, "maxLength": 200 }),
        );
        fields.insert(
            "amount".into(),
            json!({ "type": "decimal", "scale": 2, "min": 0 }),
        );
        fields.insert(
            "count".into(),
            json!({ "type": "integer", "min": 0, "max": 1000 }),
        );
        fields.insert(
            "kind".into(),
            json!({ "type": "enum", "values": ["a", "b", "c"], "default": "a" }),
        );
        fields.insert("email".into(), json!({ "type": "email", "unique": true }));
        fields.insert("note".into(), json!({ "type": "text" }));
        fields.insert("day".into(), json!({ "type": "date" }));
        fields.insert("flag".into(), json!({ "type": "boolean" }));
        fields.insert(
            "code".into(),
            json!({ "type": "string", "pattern": "[A-Z]{3}[0-9]+" }),
        );
        if i > 0 {
            fields.insert("parent".into(), json!({ "type": "reference", "object": format!("Obj{}", i - 1), "onDelete": "setNull" }));
        }
        objects.insert(name.clone(), json!({ "label": name, "fields": fields,
            "stateFlow": { "field": "status", "initial": "open", "states": { "open": {}, "closed": { "final": true } },
                           "transitions": { "close": { "from": ["open"], "to": "closed" } } } }));
        pages.insert(format!("obj{i}.list"), json!({ "type": "list", "object": name, "columns": ["name", "amount", "kind", "status"] }));
        pages.insert(format!("obj{i}.form"), json!({ "type": "form", "object": name, "sections": [ { "id": "main", "fields": ["name", "amount", "count", "kind", "email"] } ] }));
        menu_children.push(
            json!({ "id": format!("app.obj{i}"), "label": name, "page": format!("obj{i}.list") }),
        );
        grants.insert(
            name,
            json!(["read", "create", "update", "transition:close"]),
        );
    }
    let doc = json!({ "objects": objects, "pages": pages,
        "roles": { "staff": { "label": "Staff", "grants": grants } },
        "menus": [ { "id": "app", "label": "App", "children": menu_children } ] });
    let s = spec::from_value(&doc).unwrap();
    assert!(spec::check(&s).is_empty());
    s
}

fn five_hundred_ops() -> Vec<u8> {
    let mut ops: Vec<Value> = Vec::new();
    for i in 0..500 {
        let obj = format!("Obj{}", i % 200);
        ops.push(match i % 5 {
            0 => json!({ "scope": "object", "op": "add", "target": { "object": obj, "field": format!("extra{i}") }, "value": { "type": "integer", "min": 0 } }),
            1 => json!({ "scope": "object", "op": "update", "target": { "object": obj, "field": "name" }, "value": { "label": format!("Name {i}") } }),
            2 => json!({ "scope": "state", "op": "add", "target": { "object": obj, "state": format!("s{i}") } }),
            3 => json!({ "scope": "menu", "op": "add", "target": { "menu": format!("app.extra{i}") }, "value": { "label": format!("Extra {i}"), "parent": "app", "page": format!("obj{}.list", i % 200) } }),
            _ => json!({ "scope": "page", "op": "reorder", "target": { "page": format!("obj{}.list", i % 200), "list": "columns" }, "value": ["status", "kind", "amount", "name"] }),
        });
    }
    serde_json::to_vec(
        &json!({ "dsl": "modgate.patch/v1", "title": "five hundred", "operations": ops }),
    )
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let base = spec::base_spec();
    let small = twenty_ops();
    let d = patch::dry_run(&base, &small);
    assert!(d.report.valid, "{:#?}", d.report.errors);
    c.bench_function("validate+dry-run 20 ops on base CRM", |b| {
        b.iter(|| patch::dry_run(black_box(&base), black_box(&small)))
    });

    let big = big_spec();
    let large = five_hundred_ops();
    let d = patch::dry_run(&big, &large);
    assert!(
        d.report.valid,
        "{:#?}",
        d.report.errors.iter().take(3).collect::<Vec<_>>()
    );
    let mut g = c.benchmark_group("large");
    g.sample_size(20);
    g.bench_function("validate+dry-run 500 ops on 200-object spec", |b| {
        b.iter(|| patch::dry_run(black_box(&big), black_box(&large)))
    });
    g.bench_function("validate only 500 ops on 200-object spec", |b| {
        b.iter(|| patch::check(black_box(&big), black_box(&large)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Properties of validation and execution over generated patches.

use proptest::prelude::*;
use serde_json::{Value, json};
use spec::base_spec;

/// A field definition that is valid on its own.
fn field_def() -> impl Strategy<Value = Value> {
    prop_oneof![
        (1i64..500).prop_map(|n| json!({ "type": "string", "maxLength": n })),
        Just(json!({ "type": "text" })),
        (-100i64..100, 0i64..100)
            .prop_map(|(a, d)| json!({ "type": "integer", "min": a, "max": a + d, "default": a })),
        (0i64..6).prop_map(|s| json!({ "type": "decimal", "scale": s, "min": 0 })),
        Just(json!({ "type": "boolean", "default": false })),
        Just(json!({ "type": "date" })),
        Just(json!({ "type": "datetime" })),
        Just(json!({ "type": "email", "unique": true })),
        Just(json!({ "type": "phone" })),
        Just(json!({ "type": "url" })),
        prop::collection::btree_set("[a-z]{1,8}", 1..5).prop_map(|vs| {
            let vs: Vec<String> = vs.into_iter().collect();
            json!({ "type": "enum", "values": vs.clone(), "default": vs[0] })
        }),
        Just(json!({ "type": "reference", "object": "Customer", "onDelete": "setNull" })),
        Just(json!({ "type": "json" })),
    ]
}

/// One valid operation; `i` makes names unique within the patch.
fn valid_op(i: usize) -> impl Strategy<Value = Vec<Value>> {
    let base_objects = prop::sample::select(vec![
        "Customer",
        "Order",
        "OrderTracking",
        "FinancialTransaction",
    ]);
    prop_oneof![
        (base_objects, field_def()).prop_map(move |(o, f)| vec![json!({
            "scope": "object", "op": "add", "target": { "object": o, "field": format!("gen{i}") }, "value": f
        })]),
        prop::collection::vec(field_def(), 1..4).prop_map(move |fs| {
            let obj = format!("Gen{i}");
            let fields: serde_json::Map<String, Value> = fs.into_iter().enumerate().map(|(k, f)| (format!("f{k}"), f)).collect();
            vec![
                json!({ "scope": "object", "op": "add", "target": { "object": obj }, "value": { "label": obj, "fields": fields } }),
                json!({ "scope": "page", "op": "add", "target": { "page": format!("gen{i}.list") }, "value": { "type": "list", "object": obj, "columns": ["f0", "createdAt"] } }),
                json!({ "scope": "menu", "op": "add", "target": { "menu": format!("crm.gen{i}") }, "value": { "label": obj, "parent": "crm", "page": format!("gen{i}.list") } }),
            ]
        }),
        prop::sample::select(vec!["draft", "confirmed", "shipped"]).prop_map(move |from| vec![
            json!({ "scope": "state", "op": "add", "target": { "object": "Order", "state": format!("gen{i}") } }),
            json!({ "scope": "state", "op": "add", "target": { "object": "Order", "transition": format!("toGen{i}") }, "value": { "from": [from], "to": format!("gen{i}") } }),
        ]),
        Just(()).prop_perturb(|_, mut rng| {
            let mut cols = vec!["name", "email", "company", "tier", "status"];
            for k in (1..cols.len()).rev() {
                cols.swap(k, rng.random_range(0..=k));
            }
            vec![json!({ "scope": "page", "op": "reorder", "target": { "page": "customer.list", "list": "columns" }, "value": cols })]
        }),
        prop::sample::select(vec!["customer.list", "order.list", "tracking.list"]).prop_map(move |p| vec![json!({
            "scope": "menu", "op": "add", "target": { "menu": format!("crm.link{i}") }, "value": { "label": format!("Link {i}"), "parent": "crm", "page": p }
        })]),
        Just(vec![json!({ "scope": "object", "op": "update", "target": { "object": "Customer", "field": "name" }, "value": { "label": format!("Name {i}") } })]),
    ]
}

fn valid_patch() -> impl Strategy<Value = Value> {
    (1usize..8)
        .prop_flat_map(|n| (0..n).map(valid_op).collect::<Vec<_>>())
        .prop_map(|groups| {
            let ops: Vec<Value> = groups.into_iter().flatten().collect();
            json!({ "dsl": "modgate.patch/v1", "title": "generated", "operations": ops })
        })
}

/// An operation that is always invalid on the base spec.
fn invalid_op() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(
            json!({ "scope": "object", "op": "add", "target": { "object": "Customer", "field": "email" }, "value": { "type": "email" } })
        ),
        Just(
            json!({ "scope": "object", "op": "add", "target": { "object": "Nope", "field": "x" }, "value": { "type": "string" } })
        ),
        Just(
            json!({ "scope": "object", "op": "remove", "target": { "object": "Customer", "field": "id" } })
        ),
        Just(
            json!({ "scope": "permission", "op": "add", "target": { "role": "admin", "object": "Customer" }, "value": ["read"] })
        ),
        Just(json!({ "scope": "object", "op": "remove", "target": { "object": "Order" } })),
        Just(
            json!({ "scope": "page", "op": "reorder", "target": { "page": "customer.list", "list": "columns" }, "value": ["name"] })
        ),
        Just(json!({ "scope": "menu", "op": "remove", "target": { "menu": "crm.nothing" } })),
        Just(
            json!({ "scope": "object", "op": "update", "target": { "object": "Customer", "field": "tier" }, "value": { "type": "boolean", "values": null, "default": null } })
        ),
    ]
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn a_valid_patch_yields_a_spec_that_passes_integrity(doc in valid_patch()) {
        let v = patch::check(&base_spec(), &bytes(&doc));
        prop_assert!(v.report.valid, "{:#?}", v.report.errors);
        let s = v.spec.unwrap();
        prop_assert_eq!(spec::check(&s), vec![]);
        prop_assert_eq!(v.report.operations.len(), doc["operations"].as_array().unwrap().len());
    }

    #[test]
    fn apply_is_deterministic(doc in valid_patch()) {
        let a = patch::dry_run(&base_spec(), &bytes(&doc));
        let b = patch::dry_run(&base_spec(), &bytes(&doc));
        prop_assert_eq!(&a.report, &b.report);
        prop_assert_eq!(&a.spec, &b.spec);
        prop_assert_eq!(&a.diff, &b.diff);
        prop_assert_eq!(a.spec.unwrap().to_pretty_json(), b.spec.unwrap().to_pretty_json());
    }

    #[test]
    fn any_invalid_operation_leaves_the_spec_untouched(doc in valid_patch(), bad in invalid_op(), at in any::<prop::sample::Index>()) {
        let mut doc = doc;
        let ops = doc["operations"].as_array_mut().unwrap();
        let i = at.index(ops.len() + 1);
        ops.insert(i, bad);
        let before = base_spec();
        let v = patch::check(&before, &bytes(&doc));
        prop_assert!(!v.report.valid);
        prop_assert!(v.spec.is_none());
        prop_assert!(v.changes.is_empty());
        prop_assert_eq!(before, base_spec());
        prop_assert!(v.report.errors.iter().any(|e| e.op == Some(i)), "the bad op {} is named: {:#?}", i, v.report.errors);
        prop_assert!(patch::apply(&base_spec(), &patch::parse(&bytes(&doc)).unwrap()).is_err());
    }

    #[test]
    fn the_json_schema_accepts_every_document_the_parser_accepts(doc in valid_patch(), bad in invalid_op(), tests in prop::collection::vec(any::<u8>(), 0..3)) {
        let schema = patch::patch_json_schema();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let mut doc = doc;
        doc["operations"].as_array_mut().unwrap().push(bad);
        doc["tests"] = json!(tests.iter().map(|t| json!({ "name": format!("t{t}") })).collect::<Vec<_>>());
        doc["description"] = json!("generated");
        prop_assert!(patch::parse(&bytes(&doc)).is_ok());
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        prop_assert!(errors.is_empty(), "{:?}", errors);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = patch::dry_run(&base_spec(), &data);
    }

    #[test]
    fn arbitrary_json_never_panics(ops in prop::collection::vec(any::<(u8, u8, u8)>(), 0..6)) {
        let scopes = ["object", "state", "page", "permission", "menu", "bogus"];
        let kinds = ["add", "remove", "update", "replace", "reorder"];
        let targets = [
            json!({ "object": "Customer" }), json!({ "object": "Customer", "field": "name" }), json!({ "object": "Order", "state": "draft" }),
            json!({ "object": "Order", "transition": "ship" }), json!({ "page": "customer.list" }), json!({ "page": "customer.list", "list": "columns" }),
            json!({ "role": "sales" }), json!({ "role": "sales", "object": "Order" }), json!({ "menu": "crm" }), json!({}),
        ];
        let values = [Value::Null, json!({}), json!([]), json!(["read"]), json!({ "label": "x" }), json!({ "type": "string" }), json!("x"), json!(3)];
        let ops: Vec<Value> = ops.iter().map(|(a, b, c)| {
            let mut op = json!({ "scope": scopes[*a as usize % scopes.len()], "op": kinds[*b as usize % kinds.len()], "target": targets[*c as usize % targets.len()] });
            let v = &values[(*a as usize + *c as usize) % values.len()];
            if !v.is_null() { op["value"] = v.clone(); }
            op
        }).collect();
        let doc = json!({ "dsl": "modgate.patch/v1", "title": "fuzz", "operations": ops });
        let _ = patch::dry_run(&base_spec(), &bytes(&doc));
    }
}

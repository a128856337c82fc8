//! Scenario text comes from people and from models: reading it never panics, and what
//! is read runs without panicking either.

use proptest::prelude::*;
use serde_json::{Value, json};

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        "[a-z$.{}]{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "Customer",
            "Order",
            "create",
            "read",
            "${a.id}",
            "validation",
            "a"
        ])
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "name",
                    "object",
                    "steps",
                    "create",
                    "read",
                    "update",
                    "delete",
                    "list",
                    "transition",
                    "as",
                    "as_role",
                    "data",
                    "expect",
                    "expect_error",
                    "record",
                    "code",
                    "field",
                    "count"
                ])
                .prop_map(str::to_owned),
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_text_is_read_or_refused(s in "\\PC{0,200}") {
        let _ = scenario::parse("fuzz.yaml", &s);
    }

    #[test]
    fn arbitrary_scenarios_are_read_or_refused_and_run(v in value()) {
        if let Ok(list) = scenario::parse("fuzz.json", &v.to_string()) {
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let spec = spec::base_spec();
            for s in list {
                let r = rt.block_on(scenario::run::run_scenario(&spec, &s));
                prop_assert!(r.status == "passed" || r.status == "failed");
            }
        }
    }
}

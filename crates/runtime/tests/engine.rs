//! The records engine on the memory sandbox: the shared store conformance checks,
//! plus what only this store shows.

use runtime::{Actor, Engine, MemoryStore, RuntimeError};
use serde_json::{Map, Value, json};
use spec::base_spec;

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn admin() -> Actor {
    Actor::admin("admin")
}

fn rules(e: &RuntimeError) -> Vec<(String, String)> {
    match e {
        RuntimeError::Validation(errs) => errs
            .iter()
            .map(|e| (e.field.clone(), e.rule.clone()))
            .collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

/// Every conformance check, each as a test that builds its store with `$make`.
macro_rules! conformance {
    ($make:expr) => {
        conformance!($make;
    create_applies_defaults_initial_state_and_system_fields,
    validation_names_each_field_and_rule,
    decimals_are_exact_strings_with_their_scale,
    unique_values_are_enforced_and_freed_on_delete,
    references_must_exist_and_be_readable,
    transitions_follow_the_flow_and_the_grants,
    posted_transactions_are_immutable_and_corrected_by_reversal,
    stale_writes_conflict_and_change_nothing,
    delete_restricts_and_cascades_in_one_write_set,
    set_null_clears_references_and_bumps_versions,
    permissions_per_business_role,
    hidden_fields_keep_their_values_and_return,
    lists_filter_sort_and_page_with_typed_comparisons,
    numbered_fields_count_up_and_are_read_only,
    stored_reads_show_what_parsed_reads_show,
        );
    };
    ($make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                runtime::conformance::$name(&$make).await;
            }
        )*

        #[test]
        fn every_conformance_check_runs_here() {
            assert_eq!(runtime::conformance::CHECKS, &[$(stringify!($name)),*]);
        }
    };
}

conformance!(MemoryStore::new());

/// The same behaviour through a preview's overlay over an empty sandbox.
mod through_an_overlay {
    use super::*;
    use runtime::{OverlayStore, SharedLayer};

    conformance!(OverlayStore::new(
        MemoryStore::new(),
        SharedLayer::default()
    ));
}

#[tokio::test]
async fn views_match_the_record_schema() {
    let (s, store) = (base_spec(), MemoryStore::new());
    let e = Engine::new(&s, &store);
    let r = e
        .create(
            &admin(),
            "Customer",
            &obj(json!({ "name": "Acme", "creditLimit": "10" })),
        )
        .await
        .unwrap();
    let schema = spec::record_schema(&s, "Customer").unwrap();
    assert!(jsonschema::is_valid(&schema, &e.view(&r)), "{}", e.view(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_cannot_break_uniqueness_or_lose_updates() {
    let spec = std::sync::Arc::new(base_spec());
    let store = std::sync::Arc::new(MemoryStore::new());
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (spec, store) = (spec.clone(), store.clone());
        tasks.push(tokio::spawn(async move {
            let e = Engine::new(&spec, &*store);
            e.create(
                &admin(),
                "Customer",
                &obj(json!({ "name": format!("C{i}"), "email": "same@acme.test" })),
            )
            .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert_eq!(rules(&e), [("email".to_owned(), "unique".to_owned())]),
        }
    }
    assert_eq!(ok, 1);
    let id = store.raw("Customer")[0].id.clone();
    // Sixteen writers all read version 1; exactly one may write version 2.
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (spec, store, id) = (spec.clone(), store.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            let e = Engine::new(&spec, &*store);
            e.update(
                &admin(),
                "Customer",
                &id,
                &obj(json!({ "company": format!("Co{i}") })),
                Some(1),
            )
            .await
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => won += 1,
            Err(e) => assert_eq!(e.code(), "version_conflict"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(store.raw("Customer")[0].version, 2);
}

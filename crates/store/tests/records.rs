//! The records engine on the database store (SQLite, or PostgreSQL with TEST_DATABASE_URL).

use runtime::{Actor, Engine, FilterOp, ListQuery, RecordStore, RuntimeError, SortDir};
use serde_json::{Map, Value, json};
use spec::base_spec;
use std::sync::Arc;
use store::testing::fresh_db;

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn admin() -> Actor {
    Actor::admin("admin")
}

#[tokio::test]
async fn crud_round_trips_through_the_database() {
    let (db, _t) = fresh_db().await.unwrap();
    let s = base_spec();
    let e = Engine::new(&s, &db);
    let c = e
        .create(
            &admin(),
            "Customer",
            &obj(json!({ "name": "Acme", "email": "ops@acme.test", "creditLimit": 1000 })),
        )
        .await
        .unwrap();
    let got = e.get(&admin(), "Customer", &c.id).await.unwrap();
    assert_eq!(got, c);
    assert_eq!(e.view(&got)["creditLimit"], "1000.00");
    let u = e
        .update(
            &admin(),
            "Customer",
            &c.id,
            &obj(json!({ "company": "Acme Ltd", "creditLimit": null })),
            Some(1),
        )
        .await
        .unwrap();
    assert_eq!(u.version, 2);
    let again = e.get(&admin(), "Customer", &c.id).await.unwrap();
    assert_eq!(e.view(&again)["company"], "Acme Ltd");
    assert_eq!(e.view(&again)["creditLimit"], Value::Null);
    let err = e
        .update(
            &admin(),
            "Customer",
            &c.id,
            &obj(json!({ "company": "x" })),
            Some(1),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "version_conflict");
    e.delete(&admin(), "Customer", &c.id, Some(2))
        .await
        .unwrap();
    assert!(db.get("Customer", &c.id).await.unwrap().is_none());
}

#[tokio::test]
async fn unique_holds_under_concurrent_writers() {
    let (db, t) = fresh_db().await.unwrap();
    let other = store::Db::connect(&t.url).await.unwrap();
    let s = Arc::new(base_spec());
    let mut tasks = Vec::new();
    for i in 0..12 {
        let db = if i % 2 == 0 {
            db.clone()
        } else {
            other.clone()
        };
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            Engine::new(&s, &db)
                .create(
                    &admin(),
                    "Customer",
                    &obj(json!({ "name": format!("C{i}"), "email": format!("Same@Acme.test") })),
                )
                .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(RuntimeError::Validation(errs)) => assert_eq!(errs[0].rule, "unique"),
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(ok, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_take_every_number_once_without_gaps() {
    let (db, t) = fresh_db().await.unwrap();
    let other = store::Db::connect(&t.url).await.unwrap();
    let s = Arc::new(base_spec());
    let c = Engine::new(&s, &db)
        .create(&admin(), "Customer", &obj(json!({ "name": "Acme" })))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let db = if i % 2 == 0 {
            db.clone()
        } else {
            other.clone()
        };
        let (s, customer) = (s.clone(), c.id.clone());
        tasks.push(tokio::spawn(async move {
            Engine::new(&s, &db)
                .create(
                    &admin(),
                    "Order",
                    &obj(json!({ "customer": customer, "amount": format!("{i}") })),
                )
                .await
        }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        let o = t.await.unwrap().unwrap();
        numbers.push(o.data["number"].as_str().unwrap().to_owned());
    }
    numbers.sort();
    let expected: Vec<String> = (1..=40).map(|n| format!("SO-{n:06}")).collect();
    assert_eq!(numbers, expected);
}

#[tokio::test]
async fn parallel_transitions_move_a_record_once() {
    let (db, _t) = fresh_db().await.unwrap();
    let s = Arc::new(base_spec());
    let e = Engine::new(&s, &db);
    let c = e
        .create(&admin(), "Customer", &obj(json!({ "name": "Acme" })))
        .await
        .unwrap();
    let o = e
        .create(
            &admin(),
            "Order",
            &obj(json!({ "customer": c.id, "amount": "5" })),
        )
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (db, s, id) = (db.clone(), s.clone(), o.id.clone());
        tasks.push(tokio::spawn(async move {
            Engine::new(&s, &db)
                .transition(&admin(), "Order", &id, "confirm", None)
                .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert!(
                matches!(e.code(), "version_conflict" | "invalid_transition"),
                "{e:?}"
            ),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(e.get(&admin(), "Order", &o.id).await.unwrap().version, 2);
}

#[tokio::test]
async fn list_filters_and_sorts_in_sql_with_typed_comparisons() {
    let (db, _t) = fresh_db().await.unwrap();
    let s = base_spec();
    let e = Engine::new(&s, &db);
    let c = e
        .create(
            &admin(),
            "Customer",
            &obj(json!({ "name": "Acme Corp", "email": "a@acme.test" })),
        )
        .await
        .unwrap();
    e.create(
        &admin(),
        "Customer",
        &obj(json!({ "name": "Beta", "tier": "gold" })),
    )
    .await
    .unwrap();
    for (amount, day) in [
        ("9.50", "2026-01-05"),
        ("10.00", "2026-02-01"),
        ("100.00", "2026-03-01"),
        ("25.25", "2026-01-20"),
        ("3", "2025-12-31"),
    ] {
        e.create(
            &admin(),
            "Order",
            &obj(json!({ "customer": c.id, "amount": amount, "orderDate": day })),
        )
        .await
        .unwrap();
    }
    let page = |filters, sort, offset, limit| ListQuery {
        filters,
        sort,
        offset,
        limit,
    };
    let amounts = |p: &runtime::Page| {
        p.items
            .iter()
            .map(|r| r.data["amount"].clone())
            .collect::<Vec<_>>()
    };
    let gt = e
        .filter("Order", "amount", FilterOp::Gt, json!("9.99"))
        .unwrap();
    let desc = e.sort("Order", "amount", SortDir::Desc).unwrap();
    let p = e
        .list(
            &admin(),
            "Order",
            &page(vec![gt.clone()], vec![desc.clone()], 0, 2),
        )
        .await
        .unwrap();
    assert_eq!(p.total, 3);
    assert_eq!(
        amounts(&p),
        [json!("100.00"), json!("25.25")],
        "numeric, not text, order"
    );
    let p = e
        .list(&admin(), "Order", &page(vec![gt], vec![desc], 2, 2))
        .await
        .unwrap();
    assert_eq!(amounts(&p), [json!("10.00")]);
    let jan = vec![
        e.filter("Order", "orderDate", FilterOp::Gte, json!("2026-01-01"))
            .unwrap(),
        e.filter("Order", "orderDate", FilterOp::Lt, json!("2026-02-01"))
            .unwrap(),
    ];
    assert_eq!(
        e.list(&admin(), "Order", &page(jan, vec![], 0, 50))
            .await
            .unwrap()
            .total,
        2
    );
    let inn = e
        .filter("Order", "amount", FilterOp::In, json!(["3", "9.5"]))
        .unwrap();
    assert_eq!(
        e.list(&admin(), "Order", &page(vec![inn], vec![], 0, 50))
            .await
            .unwrap()
            .total,
        2
    );
    let contains = e
        .filter("Customer", "name", FilterOp::Contains, json!("CORP"))
        .unwrap();
    assert_eq!(
        e.list(&admin(), "Customer", &page(vec![contains], vec![], 0, 50))
            .await
            .unwrap()
            .total,
        1
    );
    let ne = e
        .filter("Customer", "tier", FilterOp::Ne, json!("gold"))
        .unwrap();
    assert_eq!(
        e.list(&admin(), "Customer", &page(vec![ne], vec![], 0, 50))
            .await
            .unwrap()
            .total,
        1
    );
    let no_email = e
        .filter("Customer", "email", FilterOp::Eq, Value::Null)
        .unwrap();
    assert_eq!(
        e.list(&admin(), "Customer", &page(vec![no_email], vec![], 0, 50))
            .await
            .unwrap()
            .total,
        1
    );
    let by_ref = e
        .filter("Order", "customer", FilterOp::Eq, json!(c.id))
        .unwrap();
    let status = e
        .filter("Order", "status", FilterOp::Eq, json!("draft"))
        .unwrap();
    assert_eq!(
        e.list(
            &admin(),
            "Order",
            &page(vec![by_ref, status], vec![], 0, 50)
        )
        .await
        .unwrap()
        .total,
        5
    );
    let recent = e
        .filter(
            "Order",
            "createdAt",
            FilterOp::Gte,
            json!("2000-01-01T00:00:00Z"),
        )
        .unwrap();
    let newest_first = e.sort("Order", "createdAt", SortDir::Desc).unwrap();
    assert_eq!(
        e.list(
            &admin(),
            "Order",
            &page(vec![recent], vec![newest_first], 0, 50)
        )
        .await
        .unwrap()
        .total,
        5
    );
}

#[tokio::test]
async fn spec_versions_number_and_deduplicate() {
    let (db, _t) = fresh_db().await.unwrap();
    assert_eq!(store::spec_versions::latest_number(&db).await.unwrap(), 0);
    let base = base_spec().to_pretty_json();
    let v1 = store::spec_versions::record(&db, &base, "base")
        .await
        .unwrap();
    assert_eq!(v1.number, 1);
    let same = store::spec_versions::record(&db, &base, "again")
        .await
        .unwrap();
    assert_eq!(same.number, 1, "an unchanged spec is not a new version");
    let v2 = store::spec_versions::record(&db, "{}", "test")
        .await
        .unwrap();
    assert_eq!(v2.number, 2);
    assert_eq!(
        store::spec_versions::latest(&db)
            .await
            .unwrap()
            .unwrap()
            .cause,
        "test"
    );
}

/// Every conformance check, each as a test on a fresh database; `overlay` runs it
/// through a preview's overlay instead and then checks that the database itself was
/// never written.
macro_rules! conformance {
    ($mode:ident) => {
        conformance!($mode;
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
    (direct; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (db, _t) = fresh_db().await.unwrap();
                runtime::conformance::$name(&db).await;
            }
        )*

        #[test]
        fn every_conformance_check_runs_here() {
            assert_eq!(runtime::conformance::CHECKS, &[$(stringify!($name)),*]);
        }
    };
    (pool_reads; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (db, _t) = super::pool_reads_db().await;
                runtime::conformance::$name(&db).await;
            }
        )*
    };
    (overlay; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (db, _t) = fresh_db().await.unwrap();
                let layer = runtime::SharedLayer::default();
                runtime::conformance::$name(&runtime::OverlayStore::new(db.clone(), layer)).await;
                assert_eq!(super::stored_records(&db).await, 0, "production storage was never written");
            }
        )*
    };
}

conformance!(direct);

/// Previews write to an overlay over the database: the same behaviour, and the
/// database itself untouched.
mod through_an_overlay {
    use super::*;

    conformance!(overlay);
}

/// PostgreSQL reads go through the pipelined reader unless the URL asks for what only
/// sqlx speaks; then they stay on the pool. Both paths must behave the same. (SQLite
/// files always read through their per-thread readers: there it is the direct run.)
mod through_the_pool {
    conformance!(pool_reads);
}

/// A fresh database whose PostgreSQL record reads take sqlx's pool (an option only
/// sqlx understands keeps the pipelined reader off).
async fn pool_reads_db() -> (store::Db, store::testing::TestDb) {
    let t = store::testing::fresh().await.unwrap();
    let url = if t.url.starts_with("postgres") {
        let join = if t.url.contains('?') { '&' } else { '?' };
        format!("{}{join}statement-cache-capacity=100", t.url)
    } else {
        t.url.clone()
    };
    let db = store::Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    (db, t)
}

/// Records and unique values in the database, whatever their object.
async fn stored_records(db: &store::Db) -> i64 {
    let mut n = 0;
    for object in ["Customer", "Order", "OrderTracking", "FinancialTransaction"] {
        let q = runtime::ListQuery {
            limit: 1,
            ..runtime::ListQuery::default()
        };
        n += runtime::RecordStore::list(db, object, &q).await.unwrap().1 as i64;
    }
    n
}

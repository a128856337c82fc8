//! Behaviour every record store must show under the engine, written once and run
//! against each store: the memory sandbox (`runtime`'s tests) and both databases
//! (`store`'s tests). Each function expects an empty store and panics on failure.

use crate::{Actor, Engine, FilterOp, ListQuery, RecordStore, RuntimeError, SortDir};
use serde_json::{Map, Value, json};
use spec::{Spec, base_spec};

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

async fn customer<S: RecordStore>(e: &Engine<'_, S>, name: &str, email: &str) -> String {
    e.create(
        &admin(),
        "Customer",
        &obj(json!({ "name": name, "email": email })),
    )
    .await
    .unwrap()
    .id
}

/// Every stored record of an object (hidden values included).
async fn raw<S: RecordStore>(store: &S, object: &str) -> Vec<crate::Record> {
    let q = ListQuery {
        limit: u64::MAX,
        ..ListQuery::default()
    };
    store.list(object, &q).await.unwrap().0
}

/// Names of the checks, for a store's test file to list.
pub const CHECKS: &[&str] = &[
    "create_applies_defaults_initial_state_and_system_fields",
    "validation_names_each_field_and_rule",
    "decimals_are_exact_strings_with_their_scale",
    "unique_values_are_enforced_and_freed_on_delete",
    "references_must_exist_and_be_readable",
    "transitions_follow_the_flow_and_the_grants",
    "posted_transactions_are_immutable_and_corrected_by_reversal",
    "stale_writes_conflict_and_change_nothing",
    "delete_restricts_and_cascades_in_one_write_set",
    "set_null_clears_references_and_bumps_versions",
    "permissions_per_business_role",
    "hidden_fields_keep_their_values_and_return",
    "lists_filter_sort_and_page_with_typed_comparisons",
    "numbered_fields_count_up_and_are_read_only",
    "stored_reads_show_what_parsed_reads_show",
];

pub async fn create_applies_defaults_initial_state_and_system_fields<S: RecordStore>(store: &S) {
    let s = base_spec();
    let e = Engine::new(&s, store);
    let r = e
        .create(
            &Actor::with_roles("u1", &["sales"]),
            "Customer",
            &obj(json!({ "name": "Acme" })),
        )
        .await
        .unwrap();
    let v = e.view(&r);
    assert_eq!(v["tier"], "bronze");
    assert_eq!(v["status"], "lead");
    assert_eq!(v["version"], 1);
    assert_eq!(v["createdBy"], "u1");
    assert_eq!(v["email"], Value::Null);
}

pub async fn validation_names_each_field_and_rule<S: RecordStore>(store: &S) {
    let s = base_spec();
    let e = Engine::new(&s, store);
    let err = e
        .create(&admin(), "Customer", &obj(json!({ "email": "nope", "tier": "platinum", "creditLimit": "1.005", "country": "cn",
                                                    "nmae": "x", "id": "mine", "status": "active" })))
        .await
        .unwrap_err();
    let mut got = rules(&err);
    got.sort();
    assert_eq!(
        got,
        [
            ("country", "pattern"),
            ("creditLimit", "scale"),
            ("email", "format"),
            ("id", "readOnly"),
            ("name", "required"),
            ("nmae", "unknown"),
            ("status", "readOnly"),
            ("tier", "values")
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    assert!(err.to_string().contains("did you mean 'name'?"), "{err}");
    assert!(
        raw(store, "Customer").await.is_empty(),
        "nothing was stored"
    );
    let err = e
        .create(&admin(), "Custmer", &Map::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");
    assert!(err.to_string().contains("did you mean 'Customer'?"));
}

pub async fn decimals_are_exact_strings_with_their_scale<S: RecordStore>(store: &S) {
    let s = base_spec();
    let e = Engine::new(&s, store);
    let c = customer(&e, "Acme", "ops@acme.test").await;
    for (input, stored) in [
        (json!("120.5"), "120.50"),
        (json!(120.5), "120.50"),
        (json!("0.1"), "0.10"),
        (json!(7), "7.00"),
    ] {
        let o = e
            .create(
                &admin(),
                "Order",
                &obj(json!({ "customer": c, "amount": input })),
            )
            .await
            .unwrap();
        assert_eq!(e.view(&o)["amount"], stored);
    }
    let err = e
        .create(
            &admin(),
            "Order",
            &obj(json!({ "customer": c, "amount": "-1" })),
        )
        .await
        .unwrap_err();
    assert_eq!(rules(&err), [("amount".to_owned(), "min".to_owned())]);
}

pub async fn unique_values_are_enforced_and_freed_on_delete<S: RecordStore>(store: &S) {
    let s = base_spec();
    let e = Engine::new(&s, store);
    let first = customer(&e, "Acme", "ops@acme.test").await;
    let err = e
        .create(
            &admin(),
            "Customer",
            &obj(json!({ "name": "Other", "email": "OPS@acme.test" })),
        )
        .await
        .unwrap_err();
    assert_eq!(rules(&err), [("email".to_owned(), "unique".to_owned())]);
    e.delete(&admin(), "Customer", &first, None).await.unwrap();
    customer(&e, "Other", "ops@acme.test").await;
}

pub async fn references_must_exist_and_be_readable<S: RecordStore>(store: &S) {
    let s = base_spec();
    let e = Engine::new(&s, store);
    let err = e
        .create(
            &admin(),
            "Order",
            &obj(json!({ "customer": "ghost", "amount": "1" })),
        )
        .await
        .unwrap_err();
    assert_eq!(
        rules(&err),
        [("customer".to_owned(), "reference".to_owned())]
    );
    let c = customer(&e, "Acme", "a@acme.test").await;
    let o = e
        .create(
            &admin(),
            "Order",
            &obj(json!({ "customer": c, "amount": "10" })),
        )
        .await
        .unwrap();
    let support = Actor::with_roles("s", &["support"]);
    e.create(
        &support,
        "OrderTracking",
        &obj(json!({ "order": o.id, "event": "packed", "occurredAt": "2026-11-25T08:00:00Z" })),
    )
    .await
    .unwrap();
}

pub async fn transitions_follow_the_flow_and_the_grants<S: RecordStore>(store: &S) {
    let s = base_spec();
    let e = Engine::new(&s, store);
    let c = customer(&e, "Acme", "a@acme.test").await;
    let sales = Actor::with_roles("s", &["sales"]);
    let support = Actor::with_roles("p", &["support"]);
    let o = e
        .create(
            &sales,
            "Order",
            &obj(json!({ "customer": c, "amount": "10" })),
        )
        .await
        .unwrap();
    let err = e
        .transition(&sales, "Order", &o.id, "ship", None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden", "sales may not ship");
    let err = e
        .transition(&support, "Order", &o.id, "ship", None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_transition");
    assert!(
        err.to_string()
            .contains("applies to Order records in confirmed; this one is draft"),
        "{err}"
    );
    let o = e
        .transition(&sales, "Order", &o.id, "confirm", None)
        .await
        .unwrap();
    assert_eq!(e.view(&o)["status"], "confirmed");
    let o = e
        .transition(&support, "Order", &o.id, "ship", Some(2))
        .await
        .unwrap();
    let o = e
        .transition(&support, "Order", &o.id, "deliver", None)
        .await
        .unwrap();
    let err = e
        .transition(&admin(), "Order", &o.id, "cancel", None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("final state"), "{err}");
    let err = e
        .transition(&admin(), "Order", &o.id, "cancle", None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("did you mean 'cancel'?"), "{err}");
    let err = e
        .transition(&admin(), "OrderTracking", "x", "go", None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no state flow"));
}

pub async fn posted_transactions_are_immutable_and_corrected_by_reversal<S: RecordStore>(
    store: &S,
) {
    let s = base_spec();
    let e = Engine::new(&s, store);
    let c = customer(&e, "Acme", "a@acme.test").await;
    let finance = Actor::with_roles("f", &["finance"]);
    let t = e
        .create(
            &finance,
            "FinancialTransaction",
            &obj(json!({ "kind": "payment", "customer": c, "amount": "99.90" })),
        )
        .await
        .unwrap();
    let t = e
        .update(
            &finance,
            "FinancialTransaction",
            &t.id,
            &obj(json!({ "memo": "wire" })),
            None,
        )
        .await
        .unwrap();
    let t = e
        .transition(&finance, "FinancialTransaction", &t.id, "post", None)
        .await
        .unwrap();
    let err = e
        .update(
            &finance,
            "FinancialTransaction",
            &t.id,
            &obj(json!({ "amount": "1.00" })),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "immutable");
    let err = e
        .delete(&admin(), "FinancialTransaction", &t.id, None)
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        "immutable",
        "not even an admin deletes a posted entry"
    );
    let t = e
        .transition(&finance, "FinancialTransaction", &t.id, "reverse", None)
        .await
        .unwrap();
    assert_eq!(e.view(&t)["status"], "reversed");
    assert_eq!(e.view(&t)["amount"], "99.90");
}

pub async fn stale_writes_conflict_and_change_nothing<S: RecordStore>(store: &S) {
    let s = base_spec();
    let e = Engine::new(&s, store);
    let c = customer(&e, "Acme", "a@acme.test").await;
    e.update(
        &admin(),
        "Customer",
        &c,
        &obj(json!({ "company": "Acme Ltd" })),
        Some(1),
    )
    .await
    .unwrap();
    let err = e
        .update(
            &admin(),
            "Customer",
            &c,
            &obj(json!({ "company": "Stale Inc" })),
            Some(1),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err,
        RuntimeError::VersionConflict {
            object: "Customer".into(),
            id: c.clone(),
            current: 2
        }
    );
    let r = e.get(&admin(), "Customer", &c).await.unwrap();
    assert_eq!(e.view(&r)["company"], "Acme Ltd");
    assert_eq!(
        e.delete(&admin(), "Customer", &c, Some(1))
            .await
            .unwrap_err()
            .code(),
        "version_conflict"
    );
}

pub async fn delete_restricts_and_cascades_in_one_write_set<S: RecordStore>(store: &S) {
    let s = base_spec();
    let e = Engine::new(&s, store);
    let c = customer(&e, "Acme", "a@acme.test").await;
    let o = e
        .create(
            &admin(),
            "Order",
            &obj(json!({ "customer": c, "amount": "10" })),
        )
        .await
        .unwrap();
    for event in ["created", "packed"] {
        e.create(
            &admin(),
            "OrderTracking",
            &obj(json!({ "order": o.id, "event": event, "occurredAt": "2026-11-25T08:00:00Z" })),
        )
        .await
        .unwrap();
    }
    let err = e.delete(&admin(), "Customer", &c, None).await.unwrap_err();
    assert!(
        matches!(err, RuntimeError::Restricted { ref by_object, count: 1, .. } if by_object == "Order"),
        "{err:?}"
    );
    e.delete(&admin(), "Order", &o.id, None).await.unwrap();
    assert!(
        raw(store, "OrderTracking").await.is_empty(),
        "tracking events cascade"
    );
    e.delete(&admin(), "Customer", &c, None).await.unwrap();
}

fn spec_with_set_null() -> Spec {
    let mut s = base_spec();
    let mut f = spec::FieldDef::of(spec::FieldType::Reference);
    f.object = Some("Customer".into());
    f.on_delete = Some(spec::OnDelete::SetNull);
    s.objects
        .get_mut("OrderTracking")
        .unwrap()
        .fields
        .insert("contact".into(), f);
    assert!(spec::check(&s).is_empty());
    s
}

pub async fn set_null_clears_references_and_bumps_versions<S: RecordStore>(store: &S) {
    let s = spec_with_set_null();
    let e = Engine::new(&s, store);
    let c = customer(&e, "Acme", "a@acme.test").await;
    let c2 = customer(&e, "Beta", "b@beta.test").await;
    let o = e
        .create(
            &admin(),
            "Order",
            &obj(json!({ "customer": c2, "amount": "10" })),
        )
        .await
        .unwrap();
    let t = e
        .create(&admin(), "OrderTracking", &obj(json!({ "order": o.id, "event": "created", "occurredAt": "2026-11-25T08:00:00Z", "contact": c })))
        .await
        .unwrap();
    e.delete(&admin(), "Customer", &c, None).await.unwrap();
    let t = e.get(&admin(), "OrderTracking", &t.id).await.unwrap();
    assert_eq!(e.view(&t)["contact"], Value::Null);
    assert_eq!(t.version, 2);
}

pub async fn permissions_per_business_role<S: RecordStore>(store: &S) {
    let s = base_spec();
    let e = Engine::new(&s, store);
    let c = customer(&e, "Acme", "a@acme.test").await;
    let support = Actor::with_roles("p", &["support"]);
    let nobody = Actor::with_roles("n", &[]);
    assert_eq!(
        e.get(&nobody, "Customer", &c).await.unwrap_err().code(),
        "forbidden"
    );
    assert_eq!(
        e.create(&support, "Customer", &obj(json!({ "name": "x" })))
            .await
            .unwrap_err()
            .code(),
        "forbidden"
    );
    e.update(
        &support,
        "Customer",
        &c,
        &obj(json!({ "notes": "called" })),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        e.delete(&support, "Customer", &c, None)
            .await
            .unwrap_err()
            .code(),
        "forbidden"
    );
    assert_eq!(
        e.list(&support, "FinancialTransaction", &ListQuery::default())
            .await
            .unwrap_err()
            .code(),
        "forbidden"
    );
}

pub async fn hidden_fields_keep_their_values_and_return<S: RecordStore>(store: &S) {
    let base = base_spec();
    let mut with_points = base.clone();
    let mut points = spec::FieldDef::of(spec::FieldType::Integer);
    points.min = Some(0.into());
    with_points
        .objects
        .get_mut("Customer")
        .unwrap()
        .fields
        .insert("loyaltyPoints".into(), points);
    let id = {
        let e = Engine::new(&with_points, store);
        let r = e
            .create(
                &admin(),
                "Customer",
                &obj(json!({ "name": "Acme", "loyaltyPoints": 42 })),
            )
            .await
            .unwrap();
        r.id
    };
    {
        // The module is unpublished: the field leaves the live spec.
        let e = Engine::new(&base, store);
        let r = e.get(&admin(), "Customer", &id).await.unwrap();
        assert!(e.view(&r).get("loyaltyPoints").is_none(), "hidden");
        let err = e
            .update(
                &admin(),
                "Customer",
                &id,
                &obj(json!({ "loyaltyPoints": 1 })),
                None,
            )
            .await
            .unwrap_err();
        assert_eq!(
            rules(&err),
            [("loyaltyPoints".to_owned(), "unknown".to_owned())]
        );
        e.update(
            &admin(),
            "Customer",
            &id,
            &obj(json!({ "company": "Acme Ltd" })),
            None,
        )
        .await
        .unwrap();
        assert!(
            e.filter("Customer", "loyaltyPoints", FilterOp::Eq, json!(42))
                .is_err()
        );
    }
    let e = Engine::new(&with_points, store);
    let r = e.get(&admin(), "Customer", &id).await.unwrap();
    assert_eq!(
        e.view(&r)["loyaltyPoints"],
        42,
        "published again: the value is back"
    );
    assert_eq!(e.view(&r)["company"], "Acme Ltd");
}

pub async fn lists_filter_sort_and_page_with_typed_comparisons<S: RecordStore>(store: &S) {
    let s = base_spec();
    let e = Engine::new(&s, store);
    let c = customer(&e, "Acme", "a@acme.test").await;
    for amount in ["9.50", "10.00", "100.00", "25.25", "3"] {
        e.create(
            &admin(),
            "Order",
            &obj(json!({ "customer": c, "amount": amount })),
        )
        .await
        .unwrap();
    }
    let q = |filters, sort, offset, limit| ListQuery {
        filters,
        sort,
        offset,
        limit,
    };
    let gt = e
        .filter("Order", "amount", FilterOp::Gt, json!("9.99"))
        .unwrap();
    let by_amount = e.sort("Order", "amount", SortDir::Desc).unwrap();
    let page = e
        .list(
            &admin(),
            "Order",
            &q(vec![gt.clone()], vec![by_amount.clone()], 0, 2),
        )
        .await
        .unwrap();
    assert_eq!(page.total, 3);
    let amounts: Vec<Value> = page
        .items
        .iter()
        .map(|r| e.view(r)["amount"].clone())
        .collect();
    assert_eq!(
        amounts,
        [json!("100.00"), json!("25.25")],
        "decimals compare as numbers, not text"
    );
    let page = e
        .list(&admin(), "Order", &q(vec![gt], vec![by_amount], 2, 2))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let inn = e
        .filter("Order", "amount", FilterOp::In, json!(["3", 9.5]))
        .unwrap();
    assert_eq!(
        e.list(&admin(), "Order", &q(vec![inn], vec![], 0, 50))
            .await
            .unwrap()
            .total,
        2
    );
    let named = e
        .filter("Customer", "name", FilterOp::Contains, json!("acm"))
        .unwrap();
    assert_eq!(
        e.list(&admin(), "Customer", &q(vec![named], vec![], 0, 50))
            .await
            .unwrap()
            .total,
        1
    );
    let state = e
        .filter("Order", "status", FilterOp::Eq, json!("draft"))
        .unwrap();
    assert_eq!(
        e.list(&admin(), "Order", &q(vec![state], vec![], 0, 50))
            .await
            .unwrap()
            .total,
        5
    );
    assert!(
        e.filter("Order", "amount", FilterOp::Contains, json!("1"))
            .is_err()
    );
    assert!(
        e.filter("Order", "amount", FilterOp::Eq, json!("abc"))
            .is_err()
    );
    assert!(
        e.filter("Order", "amout", FilterOp::Eq, json!("1"))
            .unwrap_err()
            .to_string()
            .contains("did you mean 'amount'?")
    );
}

pub async fn numbered_fields_count_up_and_are_read_only<S: RecordStore>(store: &S) {
    let s = base_spec();
    let e = Engine::new(&s, store);
    let c = customer(&e, "Acme", "a@acme.test").await;
    let sales = Actor::with_roles("s", &["sales"]);
    let order = |extra: Value| {
        let mut m = obj(json!({ "customer": c, "amount": "10" }));
        m.extend(obj(extra));
        m
    };
    let first = e.create(&sales, "Order", &order(json!({}))).await.unwrap();
    let second = e.create(&sales, "Order", &order(json!({}))).await.unwrap();
    assert_eq!(e.view(&first)["number"], "SO-000001");
    assert_eq!(e.view(&second)["number"], "SO-000002");
    // Users neither choose nor change a number.
    let err = e
        .create(&sales, "Order", &order(json!({ "number": "SO-9" })))
        .await
        .unwrap_err();
    assert_eq!(rules(&err), vec![("number".into(), "readOnly".into())]);
    let err = e
        .update(
            &sales,
            "Order",
            &first.id,
            &obj(json!({ "number": "SO-9" })),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(rules(&err), vec![("number".into(), "readOnly".into())]);
    // A number some record already holds (written before numbering began) is skipped.
    let mut taken = first.clone();
    taken.id = "legacy".into();
    taken.data.insert("number".into(), json!("SO-000003"));
    store
        .apply(vec![crate::Write::Insert {
            unique: vec![crate::UniqueKey {
                field: "number".into(),
                value: "SO-000003".into(),
            }],
            record: taken,
        }])
        .await
        .unwrap();
    let next = e.create(&sales, "Order", &order(json!({}))).await.unwrap();
    assert_eq!(e.view(&next)["number"], "SO-000004");
    let numbers: std::collections::BTreeSet<String> = raw(store, "Order")
        .await
        .iter()
        .map(|r| r.data["number"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(numbers.len(), 4);
}

/// The read path that serves stored text shows exactly what the parsed path shows
/// (hidden fields left out, missing ones null, the initial state, system fields), and
/// checks the same permissions.
pub async fn stored_reads_show_what_parsed_reads_show<S: RecordStore>(store: &S) {
    let base = base_spec();
    let mut with_points = base.clone();
    with_points
        .objects
        .get_mut("Customer")
        .unwrap()
        .fields
        .insert(
            "loyaltyPoints".into(),
            spec::FieldDef::of(spec::FieldType::Integer),
        );
    let id = Engine::new(&with_points, store)
        .create(
            &admin(),
            "Customer",
            &obj(
                json!({ "name": "Zoë \"Q\" 客户", "loyaltyPoints": 7, "creditLimit": "12.50",
                         "notes": "line\nbreak" }),
            ),
        )
        .await
        .unwrap()
        .id;
    let e = Engine::new(&base, store);
    let sales = Actor::with_roles("s1", &["sales"]);
    let parsed = e.view(&e.get(&sales, "Customer", &id).await.unwrap());
    let stored = e.get_stored(&sales, "Customer", &id).await.unwrap();
    let text = e.view_json(&stored).unwrap();
    assert_eq!(text, parsed.to_string(), "same bytes, key for key");
    assert!(!text.contains("loyaltyPoints"), "hidden");
    let q = ListQuery {
        limit: 10,
        ..ListQuery::default()
    };
    let page = e.list_stored(&sales, "Customer", &q).await.unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(e.view_json(&page.items[0]).unwrap(), parsed.to_string());
    let nobody = Actor::with_roles("n1", &["no-such-role"]);
    assert!(matches!(
        e.get_stored(&nobody, "Customer", &id).await,
        Err(RuntimeError::Forbidden { .. })
    ));
    assert!(matches!(
        e.list_stored(&nobody, "Customer", &q).await,
        Err(RuntimeError::Forbidden { .. })
    ));
    assert!(matches!(
        e.get_stored(&sales, "Customer", "missing").await,
        Err(RuntimeError::NotFound { .. })
    ));
}

//! The overlay a preview writes to: whatever writes a session makes, it sees exactly
//! what a copy of the base store would show after the same writes — and the base
//! store is never changed.

use proptest::prelude::*;
use runtime::{
    Filter, FilterOp, ListQuery, MemoryStore, OverlayStore, Record, RecordStore, SharedLayer,
    StorageError, UniqueKey, ValueKind, Write,
};
use serde_json::{Map, json};

const OBJECT: &str = "Customer";

fn record(id: u8, version: i64, email: u8) -> Record {
    let mut data = Map::new();
    data.insert("email".into(), json!(format!("c{email}@x.test")));
    Record {
        id: format!("r{id}"),
        object: OBJECT.into(),
        data,
        version,
        created_at: 1,
        updated_at: version,
        created_by: None,
        updated_by: None,
    }
}

fn key(email: u8) -> Vec<UniqueKey> {
    vec![UniqueKey {
        field: "email".into(),
        value: format!("c{email}@x.test"),
    }]
}

/// A write as a test generates it: small pools of ids, versions and e-mails so that
/// conflicts of every kind happen often.
#[derive(Debug, Clone)]
enum Op {
    Insert { id: u8, email: u8 },
    Update { id: u8, expected: i64, email: u8 },
    Delete { id: u8, expected: i64 },
    Exists { id: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..8, 0u8..5).prop_map(|(id, email)| Op::Insert { id, email }),
        (0u8..8, 1i64..4, 0u8..5).prop_map(|(id, expected, email)| Op::Update {
            id,
            expected,
            email
        }),
        (0u8..8, 1i64..4).prop_map(|(id, expected)| Op::Delete { id, expected }),
        (0u8..8).prop_map(|id| Op::Exists { id }),
    ]
}

fn write(op: &Op) -> Write {
    match *op {
        Op::Insert { id, email } => Write::Insert {
            record: record(id, 1, email),
            unique: key(email),
        },
        Op::Update {
            id,
            expected,
            email,
        } => Write::Update {
            record: record(id, expected + 1, email),
            expected,
            unique: key(email),
        },
        Op::Delete { id, expected } => Write::Delete {
            object: OBJECT.into(),
            id: format!("r{id}"),
            expected,
        },
        Op::Exists { id } => Write::Exists {
            object: OBJECT.into(),
            id: format!("r{id}"),
        },
    }
}

/// What a result says, without messages that may name things differently.
fn outcome(r: &Result<(), StorageError>) -> String {
    match r {
        Ok(()) => "ok".into(),
        Err(StorageError::Unique { field, .. }) => format!("unique {field}"),
        Err(StorageError::Version { id, current, .. }) => format!("version {id} {current:?}"),
        Err(StorageError::Missing { id, .. }) => format!("missing {id}"),
        Err(StorageError::Backend(m)) => format!("backend {m}"),
    }
}

/// Inserts are of new records (the engine makes fresh ids): an insert of an id the
/// model holds, or that the same set inserts, is not a case to compare.
async fn fresh_id_taken(model: &MemoryStore, o: &Op, set: &[&Op]) -> bool {
    let Op::Insert { id, .. } = o else {
        return false;
    };
    set.iter()
        .any(|p| matches!(p, Op::Insert { id: other, .. } if other == id))
        || model
            .get(OBJECT, &format!("r{id}"))
            .await
            .unwrap()
            .is_some()
}

fn all() -> ListQuery {
    ListQuery {
        limit: 1000,
        ..ListQuery::default()
    }
}

fn by_email(email: u8, offset: u64, limit: u64) -> ListQuery {
    ListQuery {
        filters: vec![Filter {
            field: "email".into(),
            kind: ValueKind::Text,
            op: FilterOp::Ne,
            value: json!(format!("c{email}@x.test")),
        }],
        sort: Vec::new(),
        offset,
        limit,
    }
}

fn run<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_overlay_shows_what_a_copy_would_and_leaves_the_base_alone(
        seed in prop::collection::vec(op(), 0..10),
        session in prop::collection::vec(op(), 1..24),
        sets in prop::collection::vec(1usize..3, 1..24),
        probe in (0u8..5, 0u64..6, 1u64..6),
    ) {
        run(async {
            let (base, model) = (MemoryStore::new(), MemoryStore::new());
            for o in &seed {
                if fresh_id_taken(&model, o, &[]).await {
                    continue;
                }
                let w = write(o);
                let a = base.apply(vec![w.clone()]).await;
                let b = model.apply(vec![w]).await;
                assert_eq!(outcome(&a), outcome(&b));
            }
            let before = base.list(OBJECT, &all()).await.unwrap();
            let overlay = OverlayStore::new(&base, SharedLayer::default());
            // Writes in sets of one or two: a set applies whole or not at all.
            let mut rest = session.as_slice();
            for n in sets.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (set, tail) = rest.split_at((*n).min(rest.len()));
                rest = tail;
                let mut kept: Vec<&Op> = Vec::new();
                for o in set {
                    if !fresh_id_taken(&model, o, &kept).await {
                        kept.push(o);
                    }
                }
                let writes: Vec<Write> = kept.iter().map(|o| write(o)).collect();
                let a = overlay.apply(writes.clone()).await;
                let b = model.apply(writes).await;
                prop_assert_eq!(outcome(&a), outcome(&b), "{:?}", set);
            }
            let (seen, total) = overlay.list(OBJECT, &all()).await.unwrap();
            let (want, want_total) = model.list(OBJECT, &all()).await.unwrap();
            prop_assert_eq!(&seen, &want);
            prop_assert_eq!(total, want_total);
            for id in 0u8..8 {
                let id = format!("r{id}");
                prop_assert_eq!(overlay.get(OBJECT, &id).await.unwrap(), model.get(OBJECT, &id).await.unwrap());
            }
            let (email, offset, limit) = probe;
            let q = by_email(email, offset, limit);
            prop_assert_eq!(overlay.list(OBJECT, &q).await.unwrap(), model.list(OBJECT, &q).await.unwrap());
            for e in 0u8..5 {
                let k = &key(e)[0];
                prop_assert_eq!(overlay.unique_holder(OBJECT, k).await.unwrap(), model.unique_holder(OBJECT, k).await.unwrap());
            }
            prop_assert_eq!(base.list(OBJECT, &all()).await.unwrap(), before, "the base is unchanged");
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn numbers_go_on_from_the_base_without_taking_any_from_it() {
    let base = MemoryStore::new();
    assert_eq!(base.reserve_numbers("Order", "number", 5).await.unwrap(), 1);
    let overlay = OverlayStore::new(&base, SharedLayer::default());
    assert_eq!(
        overlay.reserve_numbers("Order", "number", 1).await.unwrap(),
        6
    );
    assert_eq!(
        overlay.reserve_numbers("Order", "number", 2).await.unwrap(),
        7
    );
    assert_eq!(overlay.last_number("Order", "number").await.unwrap(), 8);
    assert_eq!(base.last_number("Order", "number").await.unwrap(), 5);
    // Another session starts from the base again: sessions do not see each other.
    let other = OverlayStore::new(&base, SharedLayer::default());
    assert_eq!(
        other.reserve_numbers("Order", "number", 1).await.unwrap(),
        6
    );
}

#[tokio::test]
async fn two_sessions_do_not_see_each_others_writes() {
    let base = MemoryStore::new();
    let (a, b) = (SharedLayer::default(), SharedLayer::default());
    let first = OverlayStore::new(&base, a.clone());
    first
        .apply(vec![Write::Insert {
            record: record(1, 1, 1),
            unique: key(1),
        }])
        .await
        .unwrap();
    let second = OverlayStore::new(&base, b);
    assert_eq!(second.get(OBJECT, "r1").await.unwrap(), None);
    // The same unique value is free in the other session: it is its own sandbox.
    second
        .apply(vec![Write::Insert {
            record: record(2, 1, 1),
            unique: key(1),
        }])
        .await
        .unwrap();
    // A later request of the first session sees its own write.
    let again = OverlayStore::new(&base, a.clone());
    assert_eq!(
        again.get(OBJECT, "r1").await.unwrap().map(|r| r.version),
        Some(1)
    );
    assert_eq!(a.lock().unwrap().changes(), 1);
    assert!(base.list(OBJECT, &all()).await.unwrap().0.is_empty());
}

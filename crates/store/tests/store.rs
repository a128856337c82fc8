//! Store behaviour on the backend under test (SQLite, or PostgreSQL with TEST_DATABASE_URL).

use store::audit::{self, NewEntry, Outcome};
use store::testing::fresh_db;
use store::{Db, Tx};

fn entry(action: &str) -> NewEntry {
    let mut e = NewEntry::new(action, Outcome::Success);
    e.actor = Some("tester".into());
    e.details = serde_json::json!({ "n": action });
    e
}

#[tokio::test]
async fn concurrent_appends_extend_one_chain() {
    let (db, t) = fresh_db().await.unwrap();
    // A second pool on the same database stands in for a second replica.
    let other = Db::connect(&t.url).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let db = if i % 2 == 0 {
            db.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            audit::record(&db, entry(&format!("test.e{i}"))).await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let v = audit::verify(&db).await.unwrap();
    assert_eq!(v.first_broken, None);
    assert_eq!(v.rows_checked, 40);
}

#[tokio::test]
async fn a_rolled_back_transaction_leaves_no_audit_row() {
    let (db, _t) = fresh_db().await.unwrap();
    audit::record(&db, entry("a.one")).await.unwrap();
    {
        let mut tx: Tx = db.begin().await.unwrap();
        audit::append(&mut tx, entry("a.two")).await.unwrap();
        // dropped without commit
    }
    audit::record(&db, entry("a.three")).await.unwrap();
    let v = audit::verify(&db).await.unwrap();
    assert_eq!((v.rows_checked, v.first_broken), (2, None));
}

#[tokio::test]
async fn the_database_refuses_to_change_history() {
    let (db, _t) = fresh_db().await.unwrap();
    audit::record(&db, entry("a.one")).await.unwrap();
    assert!(
        store::testing::exec(&db, "UPDATE audit_logs SET actor = 'mallory'")
            .await
            .is_err()
    );
    assert!(
        store::testing::exec(&db, "DELETE FROM audit_logs")
            .await
            .is_err()
    );
    assert_eq!(audit::count(&db).await.unwrap(), 1);
}

#[tokio::test]
async fn verify_finds_an_edited_row() {
    let (db, _t) = fresh_db().await.unwrap();
    for i in 0..5 {
        audit::record(&db, entry(&format!("a.{i}"))).await.unwrap();
    }
    store::testing::lift_audit_guard(&db).await.unwrap();
    store::testing::exec(
        &db,
        "UPDATE audit_logs SET details = '{\"n\":\"forged\"}' WHERE seq = 3",
    )
    .await
    .unwrap();
    let v = audit::verify(&db).await.unwrap();
    let (seq, why) = v.first_broken.expect("tampering is detected");
    assert_eq!(seq, 3);
    assert!(why.contains("changed"), "{why}");
    assert_eq!(v.rows_checked, 2);
}

#[tokio::test]
async fn verify_finds_a_deleted_row_even_with_rehashing_after_it() {
    let (db, _t) = fresh_db().await.unwrap();
    for i in 0..5 {
        audit::record(&db, entry(&format!("a.{i}"))).await.unwrap();
    }
    store::testing::lift_audit_guard(&db).await.unwrap();
    store::testing::exec(&db, "DELETE FROM audit_logs WHERE seq = 2")
        .await
        .unwrap();
    let v = audit::verify(&db).await.unwrap();
    assert_eq!(v.first_broken.map(|b| b.0), Some(3));
    // Deleting the newest row cannot be seen from the chain alone; deleting the first can.
    store::testing::exec(&db, "DELETE FROM audit_logs WHERE seq = 1")
        .await
        .unwrap();
    let v = audit::verify(&db).await.unwrap();
    assert_eq!(v.first_broken.map(|b| b.0), Some(3));
}

#[tokio::test]
async fn verification_resumes_from_a_checkpoint_and_still_sees_what_follows_it() {
    let (db, _t) = fresh_db().await.unwrap();
    for i in 0..6 {
        audit::record(&db, entry(&format!("a.{i}"))).await.unwrap();
    }
    assert_eq!(audit::latest_checkpoint(&db).await.unwrap(), None);
    let full = audit::verify(&db).await.unwrap();
    let (seq, hash) = full.last_good.clone().unwrap();
    assert_eq!((seq, full.rows_checked, full.started_after), (6, 6, 0));
    audit::save_checkpoint(&db, seq, &hash).await.unwrap();
    audit::save_checkpoint(&db, seq, "ignored: the first save of a row stays")
        .await
        .unwrap();
    let cp = audit::latest_checkpoint(&db).await.unwrap().unwrap();
    assert_eq!((cp.seq, cp.hash.as_str()), (6, hash.as_str()));

    for i in 6..9 {
        audit::record(&db, entry(&format!("a.{i}"))).await.unwrap();
    }
    let v = audit::verify_from(&db, Some(&cp)).await.unwrap();
    assert_eq!(v.first_broken, None);
    assert_eq!(
        (v.started_after, v.rows_checked),
        (6, 3),
        "only the new rows"
    );
    assert_eq!(v.last_good.unwrap().0, 9);

    store::testing::lift_audit_guard(&db).await.unwrap();
    // A row after the checkpoint: found.
    store::testing::exec(&db, "UPDATE audit_logs SET actor = 'mallory' WHERE seq = 8")
        .await
        .unwrap();
    let v = audit::verify_from(&db, Some(&cp)).await.unwrap();
    assert_eq!(v.first_broken.map(|b| b.0), Some(8));
    // The checkpoint row itself: found.
    store::testing::exec(&db, "UPDATE audit_logs SET actor = 'mallory' WHERE seq = 6")
        .await
        .unwrap();
    let v = audit::verify_from(&db, Some(&cp)).await.unwrap();
    let (at, why) = v.first_broken.unwrap();
    assert_eq!(at, 6);
    assert!(why.contains("checkpoint"), "{why}");
    // A row before it is the full walk's to find.
    store::testing::exec(&db, "UPDATE audit_logs SET actor = 'mallory' WHERE seq = 2")
        .await
        .unwrap();
    assert_eq!(
        audit::verify(&db).await.unwrap().first_broken.map(|b| b.0),
        Some(2)
    );
    // Removing the tail up to and past the checkpoint: found.
    store::testing::exec(&db, "DELETE FROM audit_logs WHERE seq >= 6")
        .await
        .unwrap();
    let v = audit::verify_from(&db, Some(&cp)).await.unwrap();
    assert!(v.first_broken.unwrap().1.contains("missing"));
}

#[tokio::test]
async fn audit_filters_match_on_both_backends() {
    let (db, _t) = fresh_db().await.unwrap();
    for a in ["auth.login", "auth.logout", "authz.check", "user.create"] {
        audit::record(&db, entry(a)).await.unwrap();
    }
    let mut failed = entry("auth.login");
    failed.outcome = Outcome::Failure;
    failed.actor = None;
    audit::record(&db, failed).await.unwrap();
    let f = |action: Option<&str>, outcome: Option<Outcome>| audit::Filter {
        action: action.map(str::to_owned),
        outcome,
        ..Default::default()
    };
    let (rows, total) = audit::list(&db, &f(Some("auth"), None), 0, 10)
        .await
        .unwrap();
    assert_eq!(total, 3, "auth matches auth.* but not authz.*: {rows:?}");
    let (_, total) = audit::list(&db, &f(Some("auth.login"), Some(Outcome::Failure)), 0, 10)
        .await
        .unwrap();
    assert_eq!(total, 1);
    let (rows, total) = audit::list(&db, &f(None, None), 1, 2).await.unwrap();
    assert_eq!((total, rows.len()), (5, 2));
    assert_eq!(rows[0].seq, 4, "newest first, offset 1");
    let (_, total) = audit::list(
        &db,
        &audit::Filter {
            from: Some(store::now_ms() + 60_000),
            ..Default::default()
        },
        0,
        10,
    )
    .await
    .unwrap();
    assert_eq!(total, 0);
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let (db, _t) = fresh_db().await.unwrap();
    db.migrate().await.unwrap();
    db.migrate().await.unwrap();
    store::roles::sync(&db).await.unwrap();
    store::roles::sync(&db).await.unwrap();
}

#[tokio::test]
async fn login_throttle_locks_after_max_failures_for_any_name() {
    let (db, _t) = fresh_db().await.unwrap();
    let policy = store::login_attempts::Policy {
        max_failures: 3,
        window_ms: 60_000,
        lock_ms: 60_000,
    };
    for _ in 0..2 {
        assert_eq!(
            store::login_attempts::record_failure(&db, "ghost", policy)
                .await
                .unwrap(),
            None
        );
    }
    assert!(
        store::login_attempts::record_failure(&db, "ghost", policy)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store::login_attempts::locked_until(&db, "ghost")
            .await
            .unwrap()
            .is_some()
    );
    store::login_attempts::clear(&db, "ghost").await.unwrap();
    assert!(
        store::login_attempts::locked_until(&db, "ghost")
            .await
            .unwrap()
            .is_none()
    );
}

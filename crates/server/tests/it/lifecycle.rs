//! What the application layer keeps across requests and restarts: the stored live
//! spec, audit checkpoints, the limits the route guard reads forms within.

use crate::harness::{self, spawn, spawn_with};
use reqwest::StatusCode;
use serde_json::Value;

/// A restart never rewrites the stored live spec: one that differs from the base
/// CRM (as it will once modules are published) is what the restarted server serves.
#[tokio::test]
async fn a_restart_serves_the_stored_live_spec_even_when_it_differs_from_base() {
    let app = spawn().await;
    let admin = app.admin().await;
    let first = admin.get_json("/api/spec").await;
    assert_eq!(first["version"], 1);
    assert!(first["spec"]["objects"]["Customer"]["fields"]["points"].is_null());

    let mut published = spec::base_spec();
    let customer = published.objects.get_mut("Customer").unwrap();
    let field = customer.fields["name"].clone();
    customer.fields.insert("points".into(), field);
    store::spec_versions::record(
        &app.db,
        &published.to_pretty_json(),
        "test: what a publication records",
    )
    .await
    .unwrap();

    let app = harness::restart(app).await;
    let admin = app.admin().await;
    let after = admin.get_json("/api/spec").await;
    assert_eq!(after["version"], 2, "the stored version, not a new one");
    assert!(
        after["spec"]["objects"]["Customer"]["fields"]["points"].is_object(),
        "the stored spec is served"
    );
    assert_eq!(
        store::spec_versions::latest_number(&app.db).await.unwrap(),
        2,
        "start-up wrote nothing"
    );
    // The restarted server's records follow the stored spec too.
    let r = admin
        .post("/api/data/Customer")
        .json(&serde_json::json!({ "name": "Acme", "points": "gold" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let c: Value = r.json().await.unwrap();
    assert_eq!(c["points"], "gold");
}

#[tokio::test]
async fn the_audit_page_resumes_from_a_checkpoint_and_a_full_walk_checks_everything() {
    let app = spawn().await;
    let admin = app.admin().await;
    for i in 0..3 {
        app.create_user(&admin, &format!("cp{i}"), &["developer"])
            .await;
    }
    // The first verification walks everything and leaves a checkpoint.
    let full: Value = admin.get_json("/api/audit/verify").await;
    assert_eq!(full["ok"], true);
    assert_eq!(full["checkedFrom"], 0);
    let checkpoint = full["checkpoint"]["seq"].as_i64().unwrap();
    assert_eq!(checkpoint, full["rowsChecked"].as_i64().unwrap());

    app.create_user(&admin, "cp-late", &["developer"]).await;
    let html = admin.get_text("/admin/audit").await;
    assert!(html.contains("Hash chain intact"), "{html}");
    assert!(
        html.contains(&format!(
            "rows checked after the checkpoint at row {checkpoint}"
        )),
        "the page walks only what follows the checkpoint"
    );

    // An edit before the checkpoint is what the full walk is for.
    store::testing::lift_audit_guard(&app.db).await.unwrap();
    store::testing::exec(
        &app.db,
        "UPDATE audit_logs SET actor = 'mallory' WHERE seq = 2",
    )
    .await
    .unwrap();
    let resumed: Value = admin.get_json("/api/audit/verify?walk=checkpoint").await;
    assert_eq!(resumed["ok"], true);
    assert!(resumed["checkedFrom"].as_i64().unwrap() >= checkpoint);
    let full: Value = admin.get_json("/api/audit/verify?walk=full").await;
    assert_eq!(
        (full["ok"].clone(), full["brokenAt"].clone()),
        (false.into(), 2.into())
    );
    let r = admin
        .get("/api/audit/verify?walk=sideways")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

/// The route guard reads a form to check its CSRF token within the configured body
/// limit, in both directions.
#[tokio::test]
async fn form_csrf_checks_honour_the_configured_body_limit() {
    let big = "x".repeat(3 * 1024 * 1024);
    let app = spawn_with(|c| c.body_limit_bytes = 4 * 1024 * 1024).await;
    let admin = app.admin().await;
    let r = admin
        .client
        .post(app.url("/account/tokens"))
        .form(&[("_csrf", admin.csrf.as_str()), ("name", big.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "a 3 MiB form is within a 4 MiB limit"
    );
    let html = r.text().await.unwrap();
    assert!(html.contains("must be 1 to 100 characters"));

    let app = spawn_with(|c| c.body_limit_bytes = 8 * 1024).await;
    let admin = app.admin().await;
    let r = admin
        .client
        .post(app.url("/account/tokens"))
        .form(&[("_csrf", admin.csrf.as_str()), ("name", &big[..16 * 1024])])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

use crate::harness::{error_of, spawn};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn audit_api_filters_paginates_and_exports() {
    let app = spawn().await;
    let admin = app.admin().await;
    for i in 0..3 {
        app.create_user(&admin, &format!("user{i}"), &["developer"])
            .await;
    }
    let _ = reqwest::Client::new()
        .post(app.url("/api/auth/login"))
        .json(&serde_json::json!({"username": "user0", "password": "wrong-password"}))
        .send()
        .await
        .unwrap();

    let v: Value = admin
        .get("/api/audit?action=user&perPage=2&page=1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 4, "3 created by admin + the seeded admin");
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
    let v: Value = admin
        .get("/api/audit?action=user&perPage=2&page=2")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
    // A page however far past the end is an empty page, not an overflow.
    let resp = admin
        .get("/api/audit?perPage=500&page=9223372036854775807")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["items"], serde_json::json!([]));
    let v: Value = admin
        .get("/api/audit?outcome=failure")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["details"]["username"], "user0");
    assert!(v["items"][0]["clientAddr"].as_str().is_some());
    assert!(v["items"][0]["requestId"].as_str().is_some());
    let v: Value = admin
        .get("/api/audit?actor=admin&resourceType=user")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"] == "admin" && e["resourceType"] == "user")
    );
    let v: Value = admin
        .get("/api/audit?from=2000-01-01T00:00:00Z&to=2001-01-01T00:00:00Z")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 0);

    let r = admin
        .get("/api/audit/export?format=jsonl&action=user")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/x-ndjson");
    let text = r.text().await.unwrap();
    assert_eq!(text.lines().count(), 4);
    for line in text.lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        assert!(e["hash"].as_str().unwrap().len() == 64);
    }
    let r = admin
        .get("/api/audit/export?format=csv&action=user")
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = r.text().await.unwrap();
    assert!(text.starts_with("seq,at,actor,action"));
    assert_eq!(text.lines().count(), 5);
    let (s, _, _) = error_of(
        admin
            .get("/api/audit/export?format=xml")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    let v: Value = admin
        .get("/api/audit/verify")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["ok"], true);

    let html = admin.get_text("/admin/audit?action=auth").await;
    assert!(html.contains("auth.login") && !html.contains("user.create"));
}

#[tokio::test]
async fn tampering_shows_on_the_verify_endpoint_and_page() {
    let app = spawn().await;
    let admin = app.admin().await;
    app.create_user(&admin, "target", &["developer"]).await;
    store::testing::lift_audit_guard(&app.db).await.unwrap();
    store::testing::exec(
        &app.db,
        "UPDATE audit_logs SET actor = 'someone-else' WHERE seq = 2",
    )
    .await
    .unwrap();
    let v: Value = admin
        .get("/api/audit/verify")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["brokenAt"], 2);
    let html = admin.get_text("/admin/audit").await;
    assert!(html.contains("broken"), "the page shows the broken chain");
}

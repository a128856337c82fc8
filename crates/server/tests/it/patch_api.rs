use crate::harness::{error_of, spawn};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn developers_validate_and_dry_run_patches() {
    let app = spawn().await;
    let admin = app.admin().await;
    app.create_user(&admin, "dev", &["developer"]).await;
    let dev = app.login("dev", "dev-password").await;
    let doc = json!({ "dsl": "modgate.patch/v1", "title": "t", "operations": [
        { "scope": "object", "op": "remove", "target": { "object": "Customer", "field": "createdAt" } } ] });
    let r: Value = dev
        .post("/api/patch/validate")
        .json(&doc)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["valid"], false);
    assert_eq!(r["level"], "L3");
    assert_eq!(r["errors"][0]["code"], "E_SYSTEM_FIELD");

    let good = json!({ "dsl": "modgate.patch/v1", "title": "t", "operations": [
        { "scope": "object", "op": "add", "target": { "object": "Customer", "field": "loyaltyPoints" }, "value": { "type": "integer" } } ] });
    let r: Value = dev
        .post("/api/patch/dry-run")
        .json(&good)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["report"]["valid"], true);
    assert_eq!(r["changes"][0]["name"], "Customer.loyaltyPoints");
    assert!(r["diff"].as_str().unwrap().contains("loyaltyPoints"));

    let r: Value = dev
        .post("/api/patch/validate")
        .body("{oops")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        r["errors"][0]["code"], "E_SCHEMA",
        "a malformed patch is a report, not a crash"
    );
    let (s, _, _) = error_of(dev.post("/api/patch/validate").send().await.unwrap()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let schema: Value = dev
        .get("/api/patch/schema")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(schema["properties"]["operations"].is_object());
}

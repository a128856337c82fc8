//! Testing module versions through the API and the page.

use crate::harness::{Session, audit_entries, error_of, spawn};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn module_with(admin: &Session, name: &str, prompt: Option<&str>) -> String {
    let resp = admin
        .post("/api/modules")
        .json(&json!({ "name": name }))
        .send()
        .await
        .unwrap();
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    if let Some(p) = prompt {
        let r = admin
            .post(&format!("/api/modules/{id}/generate"))
            .json(&json!({ "prompt": p }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    id
}

async fn run(admin: &Session, id: &str) -> Value {
    let r = admin
        .post(&format!("/api/modules/{id}/test-runs"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

#[tokio::test]
async fn a_field_without_scenarios_passes_the_suite_but_not_the_gate() {
    let app = spawn().await;
    let admin = app.admin().await;
    let id = module_with(&admin, "Loyalty", None).await;
    let patch = json!({ "dsl": "modgate.patch/v1", "title": "Loyalty", "operations": [
        { "scope": "object", "op": "add", "target": { "object": "Customer", "field": "loyaltyPoints" },
          "value": { "type": "integer", "label": "Loyalty points", "min": 0 } } ], "tests": [] });
    let saved = admin
        .post(&format!("/api/modules/{id}/versions"))
        .json(&json!({ "patch": patch, "message": "no scenarios", "baseVersion": 0 }))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::CREATED);
    let r = run(&admin, &id).await;
    assert_eq!(r["status"], "passed");
    assert_eq!(r["failed"], 0);
    assert!(r["passed"].as_u64().unwrap() >= 40);
    assert!(r["moduleCoverage"].as_f64().unwrap() < 0.8);
    assert_eq!(r["ready"], false);
    let items = r["report"]["coverage"]["items"].as_array().unwrap();
    let write = items
        .iter()
        .find(|i| i["id"] == "Customer.loyaltyPoints.write")
        .unwrap();
    assert_eq!(
        (write["covered"].as_bool(), write["module"].as_bool()),
        (Some(false), Some(true))
    );

    let ready: Value = admin
        .get(&format!("/api/modules/{id}/versions/1/readiness"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["ready"], false);
    assert!(
        ready["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains("below the gate")),
        "{ready}"
    );

    let list: Value = admin
        .get(&format!("/api/modules/{id}/test-runs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let run_id = r["id"].as_str().unwrap();
    let junit = admin
        .get(&format!("/api/test-runs/{run_id}?format=junit"))
        .send()
        .await
        .unwrap();
    assert!(
        junit.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    let xml = junit.text().await.unwrap();
    assert_eq!(
        xml.matches("<testcase").count() as u64,
        r["passed"].as_u64().unwrap()
    );
    let html = admin
        .get_text(&format!("/api/test-runs/{run_id}?format=html"))
        .await;
    assert!(html.contains("Loyalty") && html.contains("Customer.loyaltyPoints.write"));
    let (status, _, _) = error_of(
        admin
            .get(&format!("/api/test-runs/{run_id}?format=pdf"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(audit_entries(&admin, "module.test").await.len(), 1);

    // The page shows the report, the trend and the export links.
    let page = admin
        .get(&format!("/admin/ai-modules/test?module={id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let body = page.text().await.unwrap();
    assert!(
        body.contains("id=\"trend\"")
            && body.contains("<polyline")
            && body.contains("format=junit")
    );
    assert!(body.contains("Customer.loyaltyPoints.write"));
}

#[tokio::test]
async fn the_offline_engines_own_scenario_runs_with_the_suite() {
    let app = spawn().await;
    let admin = app.admin().await;
    let id = module_with(
        &admin,
        "Loyalty",
        Some("add an integer field loyaltyPoints to Customer with min 0"),
    )
    .await;
    let r = run(&admin, &id).await;
    assert_eq!(r["status"], "passed");
    let own: Vec<&Value> = r["report"]["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["source"] == "module")
        .collect();
    assert_eq!(own.len(), 1);
    assert_eq!(own[0]["status"], "passed");
    let items = r["report"]["coverage"]["items"].as_array().unwrap();
    let write = items
        .iter()
        .find(|i| i["id"] == "Customer.loyaltyPoints.write")
        .unwrap();
    assert_eq!(write["covered"], true);
    // Its own scenario plus the CRM suite cover enough of what it changes to pass.
    assert_eq!(r["ready"], true, "{}", r["report"]["gate"]);
}

#[tokio::test]
async fn a_version_that_breaks_a_base_rule_fails_readably_and_streams() {
    let app = spawn().await;
    let admin = app.admin().await;
    let id = module_with(&admin, "Lax", None).await;
    let patch = json!({ "dsl": "modgate.patch/v1", "title": "Lax emails", "operations": [
        { "scope": "object", "op": "update", "target": { "object": "Customer", "field": "email" }, "value": { "unique": false } } ] });
    let r = admin
        .post(&format!("/api/modules/{id}/versions"))
        .json(&json!({ "patch": patch, "message": "relax", "baseVersion": 0, "confirmL2": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let body = admin
        .post(&format!("/api/modules/{id}/test-runs"))
        .header("accept", "text/event-stream")
        .json(&json!({ "version": 1 }))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.matches("event: scenario").count() >= 40, "{body}");
    assert!(body.contains("event: done"));
    let list: Value = admin
        .get(&format!("/api/modules/{id}/test-runs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let run = &list["items"][0];
    assert_eq!(run["status"], "failed");
    let full: Value = admin
        .get(&format!("/api/test-runs/{}", run["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let failed = full["report"]["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["status"] == "failed")
        .unwrap();
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("expected error validation on email (unique)"),
        "{failed}"
    );
}

#[tokio::test]
async fn untestable_versions_are_refused() {
    let app = spawn().await;
    let admin = app.admin().await;
    let id = module_with(&admin, "Empty", None).await;
    let (status, _, _) = error_of(
        admin
            .post(&format!("/api/modules/{id}/test-runs"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    admin
        .post(&format!("/api/modules/{id}/versions"))
        .json(&json!({ "patch": "{ not json", "message": "draft", "baseVersion": 0 }))
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_of(
        admin
            .post(&format!("/api/modules/{id}/test-runs"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_version")
    );
    let (status, _, _) = error_of(
        admin
            .post(&format!("/api/modules/{id}/test-runs"))
            .json(&json!({ "version": 7 }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

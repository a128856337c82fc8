use crate::harness::{error_of, spawn, spawn_with};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn().await;
    let v: Value = reqwest::get(app.url("/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "ok");
    let v: Value = reqwest::get(app.url("/readyz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "ok");
    assert!(v["database"] == "sqlite" || v["database"] == "postgres");
}

#[tokio::test]
async fn every_api_error_has_one_shape_and_the_right_status() {
    let app = spawn_with(|c| c.body_limit_bytes = 4096).await;
    let admin = app.admin().await;
    let (s, c, _) = error_of(
        admin
            .post("/api/users")
            .header("content-type", "application/json")
            .body("{nope")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, c.as_str()), (StatusCode::BAD_REQUEST, "malformed_json"));
    let (s, c, b) = error_of(
        admin
            .post("/api/users")
            .json(&json!({ "username": 5 }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, c.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation")
    );
    assert!(b["error"]["message"].as_str().unwrap().contains("username"));
    let (s, c, b) = error_of(
        admin
            .post("/api/users")
            .json(&json!({ "username": "ok-name", "password": "pw-long-enough", "rolez": [] }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, c.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation")
    );
    assert!(
        b["error"]["message"].as_str().unwrap().contains("rolez"),
        "unknown fields are named: {b}"
    );
    let big = "x".repeat(10_000);
    let (s, c, _) = error_of(
        admin
            .post("/api/users")
            .json(&json!({ "username": big }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, c.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );
    let (s, c, _) = error_of(admin.get("/api/nothing-here").send().await.unwrap()).await;
    assert_eq!((s, c.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    let (s, c, _) = error_of(admin.get("/api/users/does-not-exist").send().await.unwrap()).await;
    assert_eq!((s, c.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    let (s, c, _) = error_of(
        admin
            .client
            .put(app.url("/api/users"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, c.as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
    let (s, c, _) = error_of(
        admin
            .post("/api/users")
            .body("username=x")
            .header("content-type", "text/plain")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, c.as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
    let (s, c, _) = error_of(admin.get("/api/audit?perPage=many").send().await.unwrap()).await;
    assert_eq!((s, c.as_str()), (StatusCode::BAD_REQUEST, "bad_request"));
    let (s, c, _) = error_of(admin.get("/api/audit?from=yesterday").send().await.unwrap()).await;
    assert_eq!((s, c.as_str()), (StatusCode::BAD_REQUEST, "bad_request"));
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn().await;
    let r = reqwest::get(app.url("/healthz")).await.unwrap();
    assert!(r.headers().get("x-request-id").is_some());
    let r = reqwest::get(app.url("/api/me")).await.unwrap();
    assert!(r.headers().get("x-request-id").is_some());
}

#[tokio::test]
async fn html_routes_render_error_pages() {
    let app = spawn().await;
    let admin = app.admin().await;
    let r = admin.get("/admin/users/no-such-user").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text().await.unwrap().contains("not found"));
    // A form that cannot be read is an HTML page naming the problem, and changes nothing.
    let r = admin
        .client
        .post(app.url("/admin/menus/system.users"))
        .form(&[("_csrf", admin.csrf.as_str()), ("sort_order", "5")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        r.text().await.unwrap().contains("label"),
        "names the missing field"
    );
    let items: serde_json::Value = admin
        .get("/api/menu-items")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        items["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == "system.users" && i["sortOrder"] == 170)
    );
    let r = admin
        .get("/crm/customer.list?perPage=0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = admin.get("/no/such/page").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

#[tokio::test]
async fn openapi_document_is_served() {
    let app = spawn().await;
    let v: Value = reqwest::get(app.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(v["paths"]["/api/users"]["post"]["requestBody"].is_object());
    assert!(v["components"]["schemas"]["UserView"].is_object());
}

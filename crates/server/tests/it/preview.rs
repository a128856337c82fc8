//! Live previews through the API: a module version applied to production data, with
//! every write kept in the preview's own sandbox.

use crate::harness::{Session, error_of, json_of, spawn};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A module "Loyalty" whose first version the offline engine wrote from `request`.
pub(crate) async fn module_with(admin: &Session, request: &str) -> String {
    let m = json_of(
        admin
            .post("/api/modules")
            .json(&json!({ "name": "Loyalty", "description": "points" }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let id = m["id"].as_str().unwrap().to_owned();
    json_of(
        admin
            .post(&format!("/api/modules/{id}/generate"))
            .json(&json!({ "prompt": request }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    id
}

async fn open(s: &Session, module: &str, n: i64) -> reqwest::Response {
    s.post(&format!("/api/modules/{module}/versions/{n}/preview"))
        .send()
        .await
        .unwrap()
}

/// Everything production holds of an object: ids, versions and values.
async fn production(s: &Session, object: &str) -> Vec<Value> {
    let v = s
        .get_json(&format!("/api/data/{object}?perPage=200&sort=id"))
        .await;
    v["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_preview_writes_only_to_its_sandbox() {
    let app = spawn().await;
    let admin = app.admin().await;
    for (name, email) in [("Acme", "ops@acme.test"), ("Globex", "hi@globex.test")] {
        json_of(
            admin
                .post("/api/data/Customer")
                .json(&json!({ "name": name, "email": email }))
                .send()
                .await
                .unwrap(),
            StatusCode::CREATED,
        )
        .await;
    }
    let module = module_with(
        &admin,
        "add an integer field loyaltyPoints to Customer with default 0 and min 0; add transition hold from confirmed to onHold on Order",
    )
    .await;
    let p = json_of(open(&admin, &module, 1).await, StatusCode::CREATED).await;
    let token = p["token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 40, "unguessable: {token}");
    assert_eq!(p["url"], format!("/preview/{token}/"));
    assert_eq!(p["version"], 1);
    let base = format!("/api/preview/{token}/data");

    let customers_before = production(&admin, "Customer").await;
    let audit_before = admin.get_json("/api/audit?perPage=1").await["total"].clone();

    // Reads see production, as the candidate spec shows it.
    let seen = admin.get_json(&format!("{base}/Customer?sort=id")).await;
    assert_eq!(seen["total"], 2);
    // Creates, edits, transitions and deletes, all inside the preview.
    let created = json_of(
        admin
            .post(&format!("{base}/Customer"))
            .json(&json!({ "name": "Initech", "email": "it@initech.test", "loyaltyPoints": 5 }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["loyaltyPoints"], 5);
    let (_, code, _) = error_of(
        admin
            .post(&format!("{base}/Customer"))
            .json(&json!({ "name": "Neg", "email": "neg@x.test", "loyaltyPoints": -1 }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        code, "validation",
        "the new field's rule applies in preview"
    );
    let (status, _, _) = error_of(
        admin
            .post(&format!("{base}/Customer"))
            .json(&json!({ "name": "Copy", "email": "ops@acme.test" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "production's unique values count"
    );
    let acme = &customers_before[0];
    let acme_id = acme["id"].as_str().unwrap();
    let edited = json_of(
        admin
            .patch(&format!("{base}/Customer/{acme_id}"))
            .json(&json!({ "name": "Acme (preview)", "loyaltyPoints": 7 }))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["version"], acme["version"].as_i64().unwrap() + 1);
    let order = json_of(
        admin
            .post(&format!("{base}/Order"))
            .json(&json!({ "customer": acme_id, "amount": "10.00", "currency": "CNY", "orderDate": "2026-12-01" }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let oid = order["id"].as_str().unwrap();
    for t in ["confirm", "hold"] {
        let r = json_of(
            admin
                .post(&format!("{base}/Order/{oid}/transitions/{t}"))
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        if t == "hold" {
            assert_eq!(r["status"], "onHold", "the module's new transition works");
        }
    }
    let globex_id = customers_before[1]["id"].as_str().unwrap();
    assert_eq!(
        admin
            .delete(&format!("{base}/Customer/{globex_id}"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    let seen = admin.get_json(&format!("{base}/Customer?sort=id")).await;
    assert_eq!(
        seen["total"], 2,
        "Acme (edited) and Initech; Globex deleted here"
    );
    let names: Vec<&str> = seen["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Acme (preview)") && names.contains(&"Initech"),
        "{names:?}"
    );

    // Production: the same records, values and versions; no order; no new audit rows.
    assert_eq!(production(&admin, "Customer").await, customers_before);
    assert!(production(&admin, "Order").await.is_empty());
    assert_eq!(
        admin.get_json("/api/audit?perPage=1").await["total"],
        audit_before
    );
    assert_eq!(admin.get_json("/api/audit/verify").await["ok"], true);
    // Production's spec has no new field: the module is not published.
    let (status, _, _) = error_of(
        admin
            .post("/api/data/Customer")
            .json(&json!({ "name": "X", "email": "x@x.test", "loyaltyPoints": 1 }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // A second preview starts from production, not from the first one's writes.
    let other = json_of(open(&admin, &module, 1).await, StatusCode::CREATED).await;
    let other_base = format!("/api/preview/{}/data", other["token"].as_str().unwrap());
    let seen = admin.get_json(&format!("{other_base}/Customer")).await;
    assert_eq!(seen["total"], 2);
    assert!(!seen.to_string().contains("Initech"));
    assert!(
        admin.get_json(&format!("{other_base}/Order")).await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn previews_belong_to_who_opened_them_and_grant_nothing_more() {
    let app = spawn().await;
    let admin = app.admin().await;
    let customer = json_of(
        admin
            .post("/api/data/Customer")
            .json(&json!({ "name": "Acme", "email": "ops@acme.test" }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let module = module_with(&admin, "add a date field birthday to Customer").await;
    let token = json_of(open(&admin, &module, 1).await, StatusCode::CREATED).await["token"]
        .as_str()
        .unwrap()
        .to_owned();

    // A developer who sells: may preview, may not delete customers (sales cannot).
    let resp = admin
        .post("/api/users")
        .json(&json!({ "username": "dana", "password": "dana-password", "roles": ["developer"], "businessRoles": ["sales"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let dana = app.login("dana", "dana-password").await;
    // The admin's token is nobody else's: 404, as for a token that does not exist.
    for path in [
        format!("/api/preview/{token}/data/Customer"),
        "/api/preview/not-a-token/data/Customer".to_owned(),
    ] {
        let (status, _, _) = error_of(dana.get(&path).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let mine = json_of(open(&dana, &module, 1).await, StatusCode::CREATED).await;
    let base = format!("/api/preview/{}/data", mine["token"].as_str().unwrap());
    let id = customer["id"].as_str().unwrap();
    let (status, _, _) = error_of(
        dana.delete(&format!("{base}/Customer/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a preview grants no more than the person's roles"
    );
    assert_eq!(dana.get_json(&format!("{base}/Customer")).await["total"], 1);

    // Someone without a module role cannot open one; versions that do not exist are 404.
    let resp = admin
        .post("/api/users")
        .json(&json!({ "username": "sam", "password": "sam-password", "roles": [], "businessRoles": ["sales"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let sam = app.login("sam", "sam-password").await;
    let (status, _, _) = error_of(open(&sam, &module, 1).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = error_of(open(&admin, &module, 9).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Imports would write to production: refused inside a preview's records.
}

#[tokio::test]
async fn preview_pages_show_the_banner_the_new_rules_and_what_they_would_refuse() {
    let app = spawn().await;
    let admin = app.admin().await;
    let c = json_of(
        admin
            .post("/api/data/Customer")
            .json(&json!({ "name": "Acme", "email": "ops@acme.test" }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let module = module_with(&admin, "make phone on Customer required").await;
    let p = json_of(open(&admin, &module, 1).await, StatusCode::CREATED).await;
    let url = p["url"].as_str().unwrap();
    let start = admin.get(url).send().await.unwrap();
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let first = start.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        first,
        format!("{url}customer.list"),
        "a preview opens on the first list"
    );
    let list = admin.get_text(&first).await;
    assert!(
        list.contains(r#"id="preview-banner""#) && list.contains("Loyalty"),
        "the banner names the module"
    );
    let side = list
        .split(r#"id="sidebar""#)
        .nth(1)
        .unwrap_or_default()
        .split("</nav>")
        .next()
        .unwrap_or_default()
        .replace("&#x2f;", "/");
    assert!(
        side.contains(&format!(r#"href="{url}customer.list""#)),
        "the sidebar stays in the preview: {side}"
    );
    assert!(
        !list.contains(r#"id="import-csv""#),
        "imports would write to production"
    );
    let detail = admin
        .get_text(&format!("{url}o/Customer/{}", c["id"].as_str().unwrap()))
        .await;
    assert!(
        detail.contains(r#"id="impact""#) && detail.contains("phone: is required"),
        "{detail}"
    );
    // The live page has neither.
    let live = admin
        .get_text(&format!("/crm/o/Customer/{}", c["id"].as_str().unwrap()))
        .await;
    assert!(!live.contains(r#"id="impact""#) && !live.contains(r#"id="preview-banner""#));
    // A form post in the preview lands on the preview's pages.
    let r = admin
        .post(&format!("{url}o/Customer"))
        .form(&[
            ("_csrf", admin.csrf.as_str()),
            ("name", "Initech"),
            ("email", "it@initech.test"),
            ("phone", "+86 21 0000"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap();
    assert!(to.starts_with(&format!("{url}o/Customer/")), "{to}");
    assert_eq!(production_count(&admin).await, 1);
    // Chinese pages too.
    let zh = admin
        .get(&first)
        .header("accept-language", "zh-CN")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(zh.contains("预览"), "the banner in Chinese");
}

async fn production_count(s: &Session) -> u64 {
    s.get_json("/api/data/Customer").await["total"]
        .as_u64()
        .unwrap()
}

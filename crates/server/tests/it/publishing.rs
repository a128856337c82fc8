//! Publishing through the API: publish an approved module and the CRM (on two
//! replicas) shows its field; unpublish hides it without losing a value; publish again
//! and the values are back; releases and rollback; a conflicting module is refused
//! naming the other; a dependent module blocks an unpublish; the impact counts the
//! records a new required field would fail; Idempotency-Key; restore.

use crate::harness::{Session, TestApp, error_of, json_of, spawn_replica, spawn_with};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

pub(crate) async fn user(app: &TestApp, admin: &Session, name: &str, roles: &[&str]) -> Session {
    app.create_user(admin, name, roles).await;
    app.login(name, &format!("{name}-password")).await
}

/// A module with one saved version (a patch, or a generation from `prompt`); returns
/// (module id, version).
async fn module(
    dev: &Session,
    name: &str,
    patch: Option<Value>,
    prompt: Option<&str>,
) -> (String, i64) {
    let id = json_of(
        dev.post("/api/modules")
            .json(&json!({ "name": name }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = new_version(dev, &id, patch, prompt).await;
    (id, v)
}

async fn new_version(dev: &Session, id: &str, patch: Option<Value>, prompt: Option<&str>) -> i64 {
    match (patch, prompt) {
        (Some(p), _) => {
            let base = dev.get_json(&format!("/api/modules/{id}")).await["currentVersion"]
                .as_i64()
                .unwrap();
            json_of(
                dev.post(&format!("/api/modules/{id}/versions"))
                    .json(&json!({ "patch": p, "message": "by hand", "baseVersion": base, "confirmL2": true }))
                    .send()
                    .await
                    .unwrap(),
                StatusCode::CREATED,
            )
            .await["number"]
                .as_i64()
                .unwrap()
        }
        (None, Some(p)) => json_of(
            dev.post(&format!("/api/modules/{id}/generate"))
                .json(&json!({ "prompt": p }))
                .send()
                .await
                .unwrap(),
            StatusCode::CREATED,
        )
        .await["version"]["number"]
            .as_i64()
            .unwrap(),
        _ => unreachable!(),
    }
}

/// Tests, submits and approves the module's current version.
pub(crate) async fn approve(dev: &Session, rev: &Session, id: &str, v: i64) {
    let run = json_of(
        dev.post(&format!("/api/modules/{id}/test-runs"))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(run["ready"], true, "{}", run["report"]["gate"]);
    let r = json_of(
        dev.post(&format!("/api/modules/{id}/submit"))
            .json(&json!({ "version": v }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let rid = r["id"].as_str().unwrap();
    json_of(
        rev.post(&format!("/api/reviews/{rid}/approve"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
}

pub(crate) async fn publish(s: &Session, id: &str, v: i64) -> reqwest::Response {
    s.post(&format!("/api/modules/{id}/publish"))
        .json(&json!({ "version": v }))
        .send()
        .await
        .unwrap()
}

fn has_field(spec: &Value, object: &str, field: &str) -> bool {
    spec["spec"]["objects"][object]["fields"]
        .get(field)
        .is_some()
        || spec["objects"][object]["fields"].get(field).is_some()
}

/// The raw stored document of a record, hidden values included.
async fn stored(app: &TestApp, object: &str, id: &str) -> Value {
    let text: String = match &app.db {
        store::Db::Sqlite(store::SqliteDb { pool: p, .. }) => {
            sqlx::query_scalar("SELECT data FROM records WHERE object = $1 AND id = $2")
                .bind(object)
                .bind(id)
                .fetch_one(p)
                .await
                .unwrap()
        }
        store::Db::Postgres(store::PgDb { pool: p, .. }) => {
            sqlx::query_scalar("SELECT data FROM records WHERE object = $1 AND id = $2")
                .bind(object)
                .bind(id)
                .fetch_one(p)
                .await
                .unwrap()
        }
    };
    serde_json::from_str(&text).unwrap()
}

const LOYALTY: &str = "add an integer field loyaltyPoints to Customer with min 0";

#[tokio::test]
async fn publish_unpublish_republish_rollback_and_the_refusals() {
    let app = spawn_with(|c| c.test_gate = 0.0).await;
    let replica = spawn_replica(&app).await;
    let admin = app.admin().await;
    let dev = user(&app, &admin, "dev", &["developer"]).await;
    let rev = user(&app, &admin, "rev", &["reviewer"]).await;
    let pub_ = user(&app, &admin, "pub", &["publisher"]).await;
    let on_replica = replica.admin().await;

    let (a, a1) = module(&dev, "Loyalty", None, Some(LOYALTY)).await;
    // Not approved: refused, nothing changes.
    let before = admin.get_json("/api/spec/versions").await["items"][0]["number"]
        .as_i64()
        .unwrap();
    let (status, code, _) = error_of(publish(&pub_, &a, a1).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "not_approved")
    );
    // A second module adding the same field, approved while the first is not live.
    let (d, d1) = module(&dev, "Points too", None, Some(LOYALTY)).await;
    approve(&dev, &rev, &a, a1).await;
    approve(&dev, &rev, &d, d1).await;
    assert_eq!(
        admin.get_json("/api/spec/versions").await["items"][0]["number"],
        before
    );

    // The impact of publishing: a new optional field fails no record.
    let imp = pub_
        .get_json(&format!(
            "/api/modules/{a}/impact?action=publish&version={a1}"
        ))
        .await;
    assert!(
        imp["specDiff"].as_str().unwrap().contains("loyaltyPoints"),
        "{imp}"
    );
    assert!(
        imp["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().contains("loyaltyPoints"))
    );

    // Publish (with an Idempotency-Key): the CRM shows the field, on both replicas.
    let key = "publish-loyalty-1";
    let first = json_of(
        pub_.post(&format!("/api/modules/{a}/publish"))
            .header("idempotency-key", key)
            .json(&json!({ "version": a1 }))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(first["publication"]["release"], "1.0.0");
    assert_eq!(first["publication"]["status"], "published");
    let again = json_of(
        pub_.post(&format!("/api/modules/{a}/publish"))
            .header("idempotency-key", key)
            .json(&json!({ "version": a1 }))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(again, first, "a retry returns the first answer");
    let versions = admin.get_json("/api/spec/versions").await;
    assert_eq!(
        versions["items"][0]["number"], first["specVersion"],
        "and changes nothing more"
    );
    assert!(has_field(
        &admin.get_json("/api/spec").await,
        "Customer",
        "loyaltyPoints"
    ));
    let mut seen = false;
    for _ in 0..50 {
        if has_field(
            &on_replica.get_json("/api/spec").await,
            "Customer",
            "loyaltyPoints",
        ) {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen, "the replica serves the new live spec");
    assert_eq!(
        dev.get_json(&format!("/api/modules/{a}")).await["status"],
        "published"
    );

    // Records get values.
    let c = json_of(
        admin
            .post("/api/data/Customer")
            .json(&json!({ "name": "Acme", "loyaltyPoints": 120 }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let cid = c["id"].as_str().unwrap().to_owned();
    assert_eq!(c["loyaltyPoints"], 120);
    let page = admin.get_text(&format!("/crm/o/Customer/{cid}")).await;
    assert!(page.contains("120"), "the detail page shows the new field");

    // The conflicting module is refused, naming the published one.
    let (status, code, body) = error_of(publish(&pub_, &d, d1).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "conflict_with_module"),
        "{body}"
    );
    assert_eq!(
        body["error"]["details"]["module"]["name"], "Loyalty",
        "{body}"
    );
    assert!(
        !body["error"]["details"]["errors"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // A dependent module (makes the field required, with a default) blocks the unpublish.
    let dependent = json!({ "dsl": "modgate.patch/v1", "title": "Points required", "operations": [
        { "scope": "object", "op": "update", "target": { "object": "Customer", "field": "loyaltyPoints" },
          "value": { "required": true, "default": 0 } } ], "tests": [] });
    let (b, b1) = module(&dev, "Points required", Some(dependent), None).await;
    approve(&dev, &rev, &b, b1).await;
    json_of(publish(&pub_, &b, b1).await, StatusCode::OK).await;
    let (status, code, body) = error_of(
        pub_.post(&format!("/api/modules/{a}/unpublish"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "required_by"),
        "{body}"
    );
    assert_eq!(
        body["error"]["details"]["module"]["name"],
        "Points required"
    );
    json_of(
        pub_.post(&format!("/api/modules/{b}/unpublish"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;

    // Unpublish: the field leaves pages and API; the value stays in storage.
    let imp = pub_
        .get_json(&format!("/api/modules/{a}/impact?action=unpublish"))
        .await;
    let customer = imp["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["object"] == "Customer")
        .expect("Customer is concerned");
    assert_eq!(customer["hiddenFields"][0]["field"], "loyaltyPoints");
    assert_eq!(customer["hiddenFields"][0]["records"], 1);
    json_of(
        pub_.post(&format!("/api/modules/{a}/unpublish"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(!has_field(
        &admin.get_json("/api/spec").await,
        "Customer",
        "loyaltyPoints"
    ));
    let shown = admin.get_json(&format!("/api/data/Customer/{cid}")).await;
    assert!(shown.get("loyaltyPoints").is_none(), "{shown}");
    let page = admin
        .get(&format!("/crm/o/Customer/{cid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("Acme")
            && !page.contains("loyaltyPoints")
            && !page.contains("Loyalty points"),
        "the detail page no longer shows it"
    );
    assert_eq!(
        stored(&app, "Customer", &cid).await["loyaltyPoints"],
        120,
        "kept in storage"
    );
    assert_eq!(
        dev.get_json(&format!("/api/modules/{a}")).await["status"],
        "unpublished"
    );

    // Publish again: the value is back.
    let back = json_of(
        pub_.post(&format!("/api/modules/{a}/rollback"))
            .json(&json!({ "version": a1 }))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(back["publication"]["release"], "1.0.0");
    assert_eq!(
        admin.get_json(&format!("/api/data/Customer/{cid}")).await["loyaltyPoints"],
        120
    );

    // A second version replaces the first in place; rollback brings 1.0.0 back.
    let a2 = new_version(
        &dev,
        &a,
        None,
        Some("add an integer field visits to Customer with min 0"),
    )
    .await;
    approve(&dev, &rev, &a, a2).await;
    let p2 = json_of(publish(&pub_, &a, a2).await, StatusCode::OK).await;
    assert_eq!(p2["publication"]["release"], "1.0.1");
    assert_eq!(
        p2["publication"]["position"], first["publication"]["position"],
        "position kept"
    );
    let rel = pub_.get_json(&format!("/api/modules/{a}/releases")).await;
    let live: Vec<&Value> = rel["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["live"] == true)
        .collect();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["release"], "1.0.1");
    assert!(
        rel["items"][0]["changelog"]
            .as_str()
            .unwrap()
            .contains(&format!("v{a2}"))
    );
    let rolled = json_of(
        pub_.post(&format!("/api/modules/{a}/rollback"))
            .json(&json!({ "version": a1 }))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(rolled["publication"]["version"], a1);
    assert_eq!(rolled["publication"]["release"], "1.0.0");
    // Rolling back to a version never published is refused.
    let (status, code, _) = error_of(
        pub_.post(&format!("/api/modules/{b}/rollback"))
            .json(&json!({ "version": 99 }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{code}");

    // Restore (administrators): the published set of an earlier spec version.
    let (status, _, _) = error_of(
        pub_.post("/api/spec/restore")
            .json(&json!({ "specVersion": before }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let restored = json_of(
        admin
            .post("/api/spec/restore")
            .json(&json!({ "specVersion": before }))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(
        restored["publications"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["status"] == "unpublished"),
        "{restored}"
    );
    assert!(!has_field(
        &admin.get_json("/api/spec").await,
        "Customer",
        "loyaltyPoints"
    ));
    assert_eq!(stored(&app, "Customer", &cid).await["loyaltyPoints"], 120);

    // Everything is audited and announced.
    for action in [
        "module.publish",
        "module.unpublish",
        "module.rollback",
        "spec.restore",
    ] {
        assert!(
            !crate::harness::audit_entries(&admin, action)
                .await
                .is_empty(),
            "{action}"
        );
    }
    let told = dev.get_json("/api/notifications").await;
    let events: Vec<&str> = told["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["event"].as_str().unwrap())
        .collect();
    for e in [
        "module.published",
        "module.unpublished",
        "module.rolled_back",
    ] {
        assert!(events.contains(&e), "{e} in {events:?}");
    }
}

#[tokio::test]
async fn the_impact_counts_records_a_new_required_field_would_fail() {
    let app = spawn_with(|c| c.test_gate = 0.0).await;
    let admin = app.admin().await;
    let dev = user(&app, &admin, "dev", &["developer"]).await;
    for name in ["A", "B", "C"] {
        json_of(
            admin
                .post("/api/data/Customer")
                .json(&json!({ "name": name }))
                .send()
                .await
                .unwrap(),
            StatusCode::CREATED,
        )
        .await;
    }
    let required = json!({ "dsl": "modgate.patch/v1", "title": "Segment", "operations": [
        { "scope": "object", "op": "add", "target": { "object": "Customer", "field": "segment" },
          "value": { "type": "string", "required": true } } ], "tests": [] });
    let (id, v) = module(&dev, "Segment", Some(required), None).await;
    let imp = dev
        .get_json(&format!(
            "/api/modules/{id}/impact?action=publish&version={v}"
        ))
        .await;
    let customer = imp["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["object"] == "Customer")
        .expect("{imp}");
    let failing = &customer["failing"][0];
    assert_eq!(failing["field"], "segment");
    assert_eq!(failing["constraint"], "required");
    assert!(failing["records"].as_i64().unwrap() >= 3, "{imp}");
    assert_eq!(
        failing["records"], customer["records"],
        "every customer lacks it"
    );
    // Bad questions are named.
    let (status, _, body) = error_of(
        dev.get(&format!("/api/modules/{id}/impact?action=explode"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _, _) = error_of(
        dev.get(&format!("/api/modules/{id}/impact?action=publish"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_published_object_page_and_menu_item_show_without_a_restart_and_come_back() {
    let app = spawn_with(|c| c.test_gate = 0.0).await;
    let admin = app.admin().await;
    let dev = user(&app, &admin, "dev", &["developer"]).await;
    let rev = user(&app, &admin, "rev", &["reviewer"]).await;
    let patch: Value = serde_json::from_str(include_str!(
        "../../../../examples/patches/object-new-campaign.json"
    ))
    .unwrap();
    let (id, v) = module(&dev, "Campaigns", Some(patch), None).await;
    approve(&dev, &rev, &id, v).await;
    let sidebar = async || admin.get_text("/docs").await;
    assert!(!sidebar().await.contains(">Campaigns</a>"));
    json_of(publish(&admin, &id, v).await, StatusCode::OK).await;
    assert!(
        sidebar().await.contains(">Campaigns</a>"),
        "the CRM menu shows it"
    );
    let page = admin.get("/crm/campaign.list").send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let c = json_of(
        admin
            .post("/api/data/Campaign")
            .json(&json!({ "name": "Spring", "budget": 1000 }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let cid = c["id"].as_str().unwrap().to_owned();

    // Unpublished: the object, its pages and menu item leave; the record is kept.
    json_of(
        admin
            .post(&format!("/api/modules/{id}/unpublish"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(!sidebar().await.contains(">Campaigns</a>"));
    assert_eq!(
        admin
            .get("/crm/campaign.list")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let (status, _, _) = error_of(
        admin
            .get(&format!("/api/data/Campaign/{cid}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(stored(&app, "Campaign", &cid).await["name"], "Spring");

    // Published again: the record is back as it was.
    json_of(
        admin
            .post(&format!("/api/modules/{id}/rollback"))
            .json(&json!({ "version": v }))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let back = admin.get_json(&format!("/api/data/Campaign/{cid}")).await;
    assert_eq!(back["name"], "Spring");
    assert_eq!(back["budget"], c["budget"]);
}

#[tokio::test]
async fn numbering_an_existing_field_numbers_its_records_in_creation_order_at_publish() {
    let app = spawn_with(|c| c.test_gate = 0.0).await;
    let replica = spawn_replica(&app).await;
    let admin = app.admin().await;
    let dev = user(&app, &admin, "dev", &["developer"]).await;
    let rev = user(&app, &admin, "rev", &["reviewer"]).await;
    let pub_ = user(&app, &admin, "pub", &["publisher"]).await;
    // A plain text field first, filled by hand on one of three customers.
    let field = json!({ "dsl": "modgate.patch/v1", "title": "Tickets", "operations": [
        { "scope": "object", "op": "add", "target": { "object": "Customer", "field": "ticket" },
          "value": { "type": "string", "label": "Ticket", "maxLength": 20 } } ], "tests": [] });
    let (m1, v1) = module(&dev, "Tickets", Some(field), None).await;
    approve(&dev, &rev, &m1, v1).await;
    json_of(publish(&pub_, &m1, v1).await, StatusCode::OK).await;
    let mut ids = Vec::new();
    for (name, ticket) in [("A", None), ("B", Some("TK-00002")), ("C", None)] {
        let mut body = json!({ "name": name });
        if let Some(t) = ticket {
            body["ticket"] = json!(t);
        }
        let r = json_of(
            admin
                .post("/api/data/Customer")
                .json(&body)
                .send()
                .await
                .unwrap(),
            StatusCode::CREATED,
        )
        .await;
        ids.push(r["id"].as_str().unwrap().to_owned());
    }
    // Then numbered: L2, since stored records change at publish.
    let numbered = json!({ "dsl": "modgate.patch/v1", "title": "Ticket numbers", "operations": [
        { "scope": "object", "op": "update", "target": { "object": "Customer", "field": "ticket" },
          "value": { "autoNumber": { "prefix": "TK-", "digits": 5 } } } ], "tests": [] });
    let (m2, v2) = module(&dev, "Ticket numbers", Some(numbered), None).await;
    let version = dev
        .get_json(&format!("/api/modules/{m2}/versions/{v2}"))
        .await;
    assert_eq!(version["level"], "L2", "{version}");
    approve(&dev, &rev, &m2, v2).await;
    json_of(publish(&pub_, &m2, v2).await, StatusCode::OK).await;
    // Those without a number got one in creation order, skipping the one in use.
    let mut numbers = Vec::new();
    for rid in &ids {
        numbers.push(admin.get_json(&format!("/api/data/Customer/{rid}")).await["ticket"].clone());
    }
    assert_eq!(
        numbers,
        vec![json!("TK-00001"), json!("TK-00002"), json!("TK-00003")]
    );
    let a = admin
        .get_json(&format!("/api/data/Customer/{}", ids[0]))
        .await;
    assert_eq!(a["version"], 2, "a numbered record gets a new version");
    // New customers continue the sequence, on either replica (once it serves the
    // numbered spec: replicas poll for it).
    let on_replica = replica.admin().await;
    let mut numbered = false;
    for _ in 0..50 {
        let spec = on_replica.get_json("/api/spec").await;
        if !spec["spec"]["objects"]["Customer"]["fields"]["ticket"]["autoNumber"].is_null() {
            numbered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(numbered, "the replica serves the numbered spec");
    let next = json_of(
        on_replica
            .post("/api/data/Customer")
            .json(&json!({ "name": "D" }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(next["ticket"], "TK-00004");
}

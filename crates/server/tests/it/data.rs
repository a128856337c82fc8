use crate::harness::{error_of, spawn};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn records_through_the_data_api() {
    let app = spawn().await;
    let admin = app.admin().await;
    let r = admin
        .post("/api/data/Customer")
        .json(&json!({ "name": "Acme", "email": "ops@acme.test" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["etag"], "\"1\"");
    let c: Value = r.json().await.unwrap();
    assert_eq!(c["status"], "lead");
    let cid = c["id"].as_str().unwrap().to_owned();

    let r = admin
        .post("/api/data/Order")
        .json(&json!({ "customer": cid, "amount": 120.5, "currency": "CNY" }))
        .send()
        .await
        .unwrap();
    let o: Value = r.json().await.unwrap();
    assert_eq!(o["amount"], "120.50", "decimals travel as exact strings");
    let oid = o["id"].as_str().unwrap().to_owned();

    let (s, code, body) = error_of(
        admin
            .patch(&format!("/api/data/Order/{oid}"))
            .json(&json!({ "amount": "-1", "colour": "red" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation")
    );
    let fields = body["error"]["details"]["fields"].as_array().unwrap();
    assert!(
        fields
            .iter()
            .any(|f| f["field"] == "amount" && f["rule"] == "min")
    );
    assert!(
        fields
            .iter()
            .any(|f| f["field"] == "colour" && f["rule"] == "unknown")
    );

    let r = admin
        .patch(&format!("/api/data/Order/{oid}"))
        .header("if-match", "\"1\"")
        .json(&json!({ "notes": "rush" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["etag"], "\"2\"");
    let (s, code, _) = error_of(
        admin
            .patch(&format!("/api/data/Order/{oid}"))
            .header("if-match", "\"1\"")
            .json(&json!({ "notes": "stale" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::PRECONDITION_FAILED, "precondition_failed")
    );
    let got: Value = admin
        .get(&format!("/api/data/Order/{oid}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["notes"], "rush", "the stale write changed nothing");

    let r = admin
        .post(&format!("/api/data/Order/{oid}/transitions/confirm"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (s, code, _) = error_of(
        admin
            .post(&format!("/api/data/Order/{oid}/transitions/deliver"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::CONFLICT, "invalid_transition")
    );
    let (s, code, _) = error_of(
        admin
            .delete(&format!("/api/data/Customer/{cid}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, code.as_str()), (StatusCode::CONFLICT, "restricted"));

    let (s, _, body) = error_of(admin.get("/api/data/Custmer").send().await.unwrap()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean 'Customer'?")
    );
    let (s, _, _) = error_of(
        admin
            .get("/api/data/Order?amout.gt=1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _, _) = error_of(
        admin
            .get("/api/data/Order?amount.between=1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn lists_filter_sort_and_paginate() {
    let app = spawn().await;
    let admin = app.admin().await;
    let c: Value = admin
        .post("/api/data/Customer")
        .json(&json!({ "name": "Acme" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for amount in ["5", "50", "500", "5000", "25"] {
        admin
            .post("/api/data/Order")
            .json(&json!({ "customer": c["id"], "amount": amount }))
            .send()
            .await
            .unwrap();
    }
    let v: Value = admin
        .get("/api/data/Order?amount.gte=25&sort=-amount&perPage=2")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 4);
    let amounts: Vec<&Value> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["amount"])
        .collect();
    assert_eq!(amounts, [&json!("5000.00"), &json!("500.00")]);
    let v: Value = admin
        .get("/api/data/Order?amount.gte=25&sort=-amount&perPage=2&page=2")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["items"][1]["amount"], "25.00");
    let v: Value = admin
        .get("/api/data/Order?amount.in=5,50&status=draft")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 2);
}

#[tokio::test]
async fn business_roles_decide_what_data_a_user_may_touch() {
    let app = spawn().await;
    let admin = app.admin().await;
    let r = admin
        .post("/api/users")
        .json(&json!({ "username": "sam", "password": "sam-password", "roles": [], "businessRoles": ["sales"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    app.create_user(&admin, "nora", &["developer"]).await;
    let sam = app.login("sam", "sam-password").await;
    let nora = app.login("nora", "nora-password").await;
    let r = sam
        .post("/api/data/Customer")
        .json(&json!({ "name": "Lead Co" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let c: Value = r.json().await.unwrap();
    let (s, code, _) = error_of(
        sam.delete(&format!("/api/data/Customer/{}", c["id"].as_str().unwrap()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, code.as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    let (s, _, _) = error_of(nora.get("/api/data/Customer").send().await.unwrap()).await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "platform roles do not grant CRM data"
    );
    let (s, _, _) = error_of(
        sam.post("/api/data/FinancialTransaction")
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

async fn wait_for_version(s: &crate::harness::Session, version: i64) -> Value {
    // The live spec is polled; give it a bounded while to arrive.
    for _ in 0..100 {
        let v: Value = s
            .get("/api/spec")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if v["version"] == version {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("live spec version {version} never arrived");
}

#[tokio::test]
async fn a_new_live_spec_takes_effect_without_restart_and_hidden_values_return() {
    let app = spawn().await;
    let admin = app.admin().await;
    let v: Value = admin
        .get("/api/spec")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["version"], 1);
    let base = spec::base_spec();
    let doc = patch::parse(br#"{"dsl":"modgate.patch/v1","title":"p","operations":[
        {"scope":"object","op":"add","target":{"object":"Customer","field":"loyaltyPoints"},"value":{"type":"integer","min":0}}]}"#)
    .unwrap();
    let with_points = patch::apply(&base, &doc).unwrap();

    store::spec_versions::record(
        &app.db,
        &with_points.to_pretty_json(),
        "test: add loyaltyPoints",
    )
    .await
    .unwrap();
    let v = wait_for_version(&admin, 2).await;
    assert!(v["spec"]["objects"]["Customer"]["fields"]["loyaltyPoints"].is_object());
    let c: Value = admin
        .post("/api/data/Customer")
        .json(&json!({ "name": "Acme", "loyaltyPoints": 42 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = c["id"].as_str().unwrap().to_owned();
    let schema: Value = admin
        .get("/api/spec/objects/Customer/schema")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(schema["properties"]["loyaltyPoints"].is_object());

    store::spec_versions::record(
        &app.db,
        &base.to_pretty_json(),
        "test: remove loyaltyPoints",
    )
    .await
    .unwrap();
    wait_for_version(&admin, 3).await;
    let got: Value = admin
        .get(&format!("/api/data/Customer/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        got.get("loyaltyPoints").is_none(),
        "hidden from the API: {got}"
    );
    let r = admin
        .patch(&format!("/api/data/Customer/{id}"))
        .json(&json!({ "company": "Acme Ltd" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    store::spec_versions::record(&app.db, &with_points.to_pretty_json(), "test: add it back")
        .await
        .unwrap();
    wait_for_version(&admin, 4).await;
    let got: Value = admin
        .get(&format!("/api/data/Customer/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["loyaltyPoints"], 42, "the value is back");
    assert_eq!(got["company"], "Acme Ltd");
}

#[tokio::test]
async fn replicas_on_one_database_share_the_live_spec_and_the_data() {
    let a = spawn().await;
    let b = crate::harness::spawn_replica(&a).await;
    let on_a = a.admin().await;
    let on_b = b.admin().await;
    let c: Value = on_a
        .post("/api/data/Customer")
        .json(&json!({ "name": "Shared" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let got: Value = on_b
        .get(&format!("/api/data/Customer/{}", c["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["name"], "Shared");
    let with_points = patch::apply(
        &spec::base_spec(),
        &patch::parse(br#"{"dsl":"modgate.patch/v1","title":"p","operations":[
            {"scope":"object","op":"add","target":{"object":"Customer","field":"vip"},"value":{"type":"boolean"}}]}"#).unwrap(),
    )
    .unwrap();
    store::spec_versions::record(
        &a.db,
        &with_points.to_pretty_json(),
        "test: a change made through replica A",
    )
    .await
    .unwrap();
    let v = wait_for_version(&on_b, 2).await;
    assert!(
        v["spec"]["objects"]["Customer"]["fields"]["vip"].is_object(),
        "replica B runs the new spec"
    );
    wait_for_version(&on_a, 2).await;
}

#[tokio::test]
async fn references_show_their_records_titles_and_pickers_find_records_by_title() {
    let app = spawn().await;
    let admin = app.admin().await;
    let mut ids = Vec::new();
    for name in ["Acme Labs", "Zeta", "acme corp"] {
        let c: Value = admin
            .post("/api/data/Customer")
            .json(&json!({ "name": name }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(c["id"].as_str().unwrap().to_owned());
    }
    // A picker: part of the title, any case, by title.
    let m: Value = admin
        .get("/api/data/Customer/lookup?q=ACME&limit=5")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let titles: Vec<&str> = m["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Acme Labs", "acme corp"], "{m}");
    assert_eq!(m["items"][0]["id"], ids[0].as_str());
    for bad in ["limit=0", "limit=51"] {
        let (status, _, _) = error_of(
            admin
                .get(&format!("/api/data/Customer/lookup?{bad}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let (status, _, _) = error_of(admin.get("/api/data/Nope/lookup").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Without read permission on the object, no titles.
    app.create_user(&admin, "nobody", &[]).await;
    let nobody = app.login("nobody", "nobody-password").await;
    let (status, _, _) = error_of(
        nobody
            .get("/api/data/Customer/lookup?q=a")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Lists carry the titles of what references point to; pages show them, linked.
    let o: Value = admin
        .post("/api/data/Order")
        .json(&json!({ "customer": ids[2], "amount": 10, "currency": "CNY" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list: Value = admin
        .get("/api/data/Order?titles=true")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["_titles"][&ids[2]], "acme corp", "{list}");
    assert_eq!(o["number"], "SO-000001", "numbered on create");
    let plain: Value = admin.get_json("/api/data/Order").await;
    assert!(plain.get("_titles").is_none(), "only when asked for");
    let page = admin
        .get_text(&format!("/crm/o/Order/{}", o["id"].as_str().unwrap()))
        .await;
    assert!(
        page.contains("<span id=\"record-title\">SO-000001</span>"),
        "titled by its number"
    );
    assert!(
        page.contains(">acme corp</a>"),
        "the customer shows as its name"
    );
    let list_page = admin.get_text("/crm/order.list").await;
    assert!(
        list_page.contains(">acme corp</a>"),
        "lists show the customer's name"
    );
    // States filter with a select of their labels, not a text box.
    let customers = admin.get_text("/crm/customer.list?status=lead").await;
    assert!(
        customers.contains("<select id=\"f-status\" name=\"status\">"),
        "a select"
    );
    assert!(
        customers.contains("<option value=\"lead\" selected>"),
        "the chosen state stays chosen"
    );
    // References filter and are entered with pickers, never by typing an id; the
    // chosen customer shows by name.
    let filtered = admin
        .get_text(&format!("/crm/order.list?customer={}", ids[2]))
        .await;
    // (The template escapes the slashes of the address it is given: `&#x2f;`.)
    assert!(
        filtered
            .replace("&#x2f;", "/")
            .contains("data-picker=\"/api/data/Customer/lookup\"")
    );
    assert!(
        filtered.contains("id=\"f-customer\" value=\"acme corp\""),
        "{filtered}"
    );
    assert!(!filtered.contains("<input type=\"text\" id=\"f-customer\" name=\"customer\""));
    let form = admin.get_text("/crm/o/Order/new").await;
    assert!(
        form.replace("&#x2f;", "/")
            .contains("data-picker=\"/api/data/Customer/lookup\"")
    );
    assert!(
        form.contains("data-auto=\"number\""),
        "the number is not an input"
    );
    assert!(!form.contains("name=\"number\""));
}

#[tokio::test]
async fn the_crm_speaks_the_users_language() {
    let app = spawn().await;
    let admin = app.admin().await;
    let c: Value = admin
        .post("/api/data/Customer")
        .json(&json!({ "name": "Acme", "tier": "gold" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The language is remembered in a cookie, as the switch in the header sets it.
    admin.get("/lang/zh").send().await.unwrap();
    let zh = |path: String| {
        let admin = &admin;
        async move { admin.get(&path).send().await.unwrap().text().await.unwrap() }
    };
    let detail = zh(format!("/crm/o/Customer/{}", c["id"].as_str().unwrap())).await;
    for word in [
        "客户",
        "名称",
        "金牌",
        "潜在客户",
        "联系方式",
        "激活",
        "编辑",
    ] {
        assert!(detail.contains(word), "{word} on the detail page");
    }
    let list = zh("/crm/order.list".into()).await;
    for word in ["订单编号", "草稿", "已确认", "客户管理", "新建", "导出 CSV"] {
        assert!(list.contains(word), "{word} on the list page");
    }
    // English, with the enum's English label rather than its stored value.
    admin.get("/lang/en").send().await.unwrap();
    let en = admin
        .get_text(&format!("/crm/o/Customer/{}", c["id"].as_str().unwrap()))
        .await;
    assert!(en.contains(">Gold<") && !en.contains("金牌"));
}

#[tokio::test]
async fn orders_created_at_once_on_two_replicas_get_distinct_numbers() {
    let app = spawn().await;
    let replica = crate::harness::spawn_replica(&app).await;
    let (a, b) = (app.admin().await, replica.admin().await);
    let c: Value = a
        .post("/api/data/Customer")
        .json(&json!({ "name": "Acme" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let create = |s: &crate::harness::Session| {
        let body = json!({ "customer": c["id"], "amount": "1" });
        let req = s.post("/api/data/Order").json(&body);
        async move {
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
            r.json::<Value>().await.unwrap()["number"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let mut all = Vec::new();
    for s in [&a, &b].repeat(15) {
        all.push(create(s));
    }
    let numbers: std::collections::BTreeSet<String> = futures_util::future::join_all(all)
        .await
        .into_iter()
        .collect();
    assert_eq!(numbers.len(), 30, "no number handed out twice: {numbers:?}");
    // Nothing failed, so nothing was skipped: 1 to 30.
    assert_eq!(numbers.first().unwrap(), "SO-000001");
    assert_eq!(numbers.last().unwrap(), "SO-000030");
}

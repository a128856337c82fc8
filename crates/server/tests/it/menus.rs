use crate::harness::{audit_entries, error_of, spawn};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn paths(menu: &Value) -> Vec<String> {
    menu["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| {
            g["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["path"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn the_menu_shows_what_the_user_may_open() {
    let app = spawn().await;
    let admin = app.admin().await;
    app.create_user(&admin, "dev", &["developer"]).await;
    app.create_user(&admin, "rev", &["reviewer"]).await;
    let admin_menu: Value = admin
        .get("/api/menu")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        paths(&admin_menu),
        [
            "/admin/ai-models",
            "/admin/ai-usage",
            "/admin/ai-modules/develop",
            "/admin/ai-modules/test",
            "/admin/ai-modules/review",
            "/admin/ai-modules/publish",
            "/admin/audit",
            "/admin/users",
            "/admin/trusted-keys",
            "/admin/menus"
        ]
    );
    let rev: Value = app
        .login("rev", "rev-password")
        .await
        .get("/api/menu")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        paths(&rev),
        [
            "/admin/ai-modules/test",
            "/admin/ai-modules/review",
            "/admin/audit"
        ],
        "publishing is not permitted to reviewers"
    );
    let dev: Value = app
        .login("dev", "dev-password")
        .await
        .get("/api/menu")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        paths(&dev),
        ["/admin/ai-modules/develop", "/admin/ai-modules/test"]
    );

    let items: Value = admin
        .get("/api/menu-items")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = items["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        11,
        "the System Management group and its ten seeded items"
    );
    let models = items
        .iter()
        .find(|i| i["path"] == "/admin/ai-models")
        .unwrap();
    assert_eq!(models["pageExists"], true);
    assert_eq!(models["permission"], "models.manage");
    let publish = items
        .iter()
        .find(|i| i["path"] == "/admin/ai-modules/publish")
        .unwrap();
    assert_eq!(publish["pageExists"], true);
    assert_eq!(publish["permission"], "modules.publish");
}

#[tokio::test]
async fn admins_relabel_reorder_hide_and_repermission() {
    let app = spawn().await;
    let admin = app.admin().await;
    app.create_user(&admin, "rev", &["reviewer"]).await;
    let r = admin
        .patch("/api/menu-items/system.menus")
        .json(&json!({ "label": "Navigation", "sortOrder": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let menu: Value = admin
        .get("/api/menu")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(paths(&menu)[0], "/admin/menus");
    assert_eq!(menu["groups"][0]["items"][0]["label"], "Navigation");

    let r = admin
        .patch("/api/menu-items/system.audit")
        .json(&json!({ "visible": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let rev = app.login("rev", "rev-password").await;
    let m: Value = rev
        .get("/api/menu")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        paths(&m),
        ["/admin/ai-modules/test", "/admin/ai-modules/review"],
        "the hidden audit item is gone"
    );
    let r = admin
        .patch("/api/menu-items/system.audit")
        .json(&json!({ "visible": true, "permission": "users.manage" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let m: Value = rev
        .get("/api/menu")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        paths(&m),
        ["/admin/ai-modules/test", "/admin/ai-modules/review"],
        "the audit item now needs users.manage"
    );

    let (s, _, b) = error_of(
        admin
            .patch("/api/menu-items/system.audit")
            .json(&json!({ "permission": "audit.reed" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("audit.reed")
    );
    let (s, _, _) = error_of(
        admin
            .patch("/api/menu-items/nope")
            .json(&json!({ "label": "x" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = error_of(
        admin
            .patch("/api/menu-items/system.audit")
            .json(&json!({ "label": "  " }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    let entries = audit_entries(&admin, "menu").await;
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[2]["details"]["before"]["label"], "Menus");
    assert_eq!(entries[2]["details"]["after"]["label"], "Navigation");
}

#[tokio::test]
async fn the_interface_switches_to_chinese_and_back() {
    let app = spawn().await;
    let admin = app.admin().await;
    let r = admin
        .get("/lang/zh")
        .header("referer", format!("{}/admin/users", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/admin/users");
    let html = admin.get("/").send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains("退出登录") && html.contains("系统管理") && html.contains("审计日志"),
        "Chinese labels"
    );
    // A label an administrator edited is shown as written.
    admin
        .patch("/api/menu-items/system.users")
        .json(&json!({ "label": "Team" }))
        .send()
        .await
        .unwrap();
    let html = admin.get("/").send().await.unwrap().text().await.unwrap();
    assert!(html.contains(">Team<"));
    admin.get("/lang/en").send().await.unwrap();
    let html = admin.get("/").send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Log out") && html.contains("System Management"));
    let r = admin.get("/lang/fr").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

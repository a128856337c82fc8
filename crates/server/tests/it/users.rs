use crate::harness::{audit_entries, error_of, spawn};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn create_list_update_users_with_audit() {
    let app = spawn().await;
    let admin = app.admin().await;
    let r = admin
        .post("/api/users")
        .json(&json!({ "username": "Dana", "password": "dana-password", "displayName": "Dana D", "email": "dana@acme.test",
                        "roles": ["developer", "reviewer"], "businessRoles": ["sales"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let u: Value = r.json().await.unwrap();
    assert_eq!(u["username"], "dana", "usernames are stored lower-case");
    assert_eq!(u["roles"], json!(["developer", "reviewer"]));
    assert_eq!(u["businessRoles"], json!(["sales"]));
    assert!(u.get("passwordHash").is_none() && !u.to_string().contains("argon2"));
    let id = u["id"].as_str().unwrap();

    let (s, c, _) = error_of(
        admin
            .post("/api/users")
            .json(&json!({ "username": "dana", "password": "another-password" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, c.as_str()), (StatusCode::CONFLICT, "conflict"));

    let r = admin
        .patch(&format!("/api/users/{id}"))
        .json(&json!({ "roles": ["publisher"], "email": null }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let u: Value = r.json().await.unwrap();
    assert_eq!(u["roles"], json!(["publisher"]));
    assert_eq!(u["email"], Value::Null);
    assert_eq!(u["displayName"], "Dana D", "untouched fields stay");

    let list: Value = admin
        .get("/api/users")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);

    let entries = audit_entries(&admin, "user").await;
    let update = entries
        .iter()
        .find(|e| e["action"] == "user.update")
        .unwrap();
    assert_eq!(
        update["details"]["changes"]["roles"],
        json!({ "from": ["developer", "reviewer"], "to": ["publisher"] })
    );
    assert_eq!(update["actor"], "admin");
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "user.create" && e["resourceId"] == id)
    );
}

#[tokio::test]
async fn bad_input_is_rejected_field_by_field_and_changes_nothing() {
    let app = spawn().await;
    let admin = app.admin().await;
    let (s, _, b) = error_of(
        admin.post("/api/users").json(&json!({ "username": "-x", "password": "short", "email": "nope", "roles": ["root"] })).send().await.unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<_> = b["error"]["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["username", "email", "password", "roles"]);
    assert_eq!(store::users::count(&app.db).await.unwrap(), 1);
    let id = store::users::list(&app.db).await.unwrap()[0].id.clone();
    let (s, _, _) = error_of(
        admin
            .patch(&format!("/api/users/{id}"))
            .json(&json!({ "roles": ["admin", "wizard"] }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_removed() {
    let app = spawn().await;
    let admin = app.admin().await;
    let id = store::users::list(&app.db).await.unwrap()[0].id.clone();
    let (s, c, _) = error_of(
        admin
            .patch(&format!("/api/users/{id}"))
            .json(&json!({ "active": false }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, c.as_str()), (StatusCode::CONFLICT, "conflict"));
    let (s, _, _) = error_of(
        admin
            .patch(&format!("/api/users/{id}"))
            .json(&json!({ "roles": ["developer"] }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let me: Value = admin
        .get("/api/me")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["roles"], json!(["admin"]), "nothing was half-applied");
    // With a second admin it is allowed.
    app.create_user(&admin, "admin2", &["admin"]).await;
    let r = admin
        .patch(&format!("/api/users/{id}"))
        .json(&json!({ "roles": ["developer"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn password_reset_ends_sessions_and_the_new_password_works() {
    let app = spawn().await;
    let admin = app.admin().await;
    let id = app.create_user(&admin, "erin", &["developer"]).await;
    let erin = app.login("erin", "erin-password").await;
    let (s, _, _) = error_of(
        admin
            .post(&format!("/api/users/{id}/password"))
            .json(&json!({ "password": "short" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let r = admin
        .post(&format!("/api/users/{id}/password"))
        .json(&json!({ "password": "brand-new-password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        erin.get("/api/me").send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    app.login("erin", "brand-new-password").await;
}

#[tokio::test]
async fn hostile_names_render_as_text() {
    let app = spawn().await;
    let admin = app.admin().await;
    let r = admin
        .post("/api/users")
        .json(&json!({ "username": "mallory", "password": "mallory-password", "displayName": "<script>alert(1)</script>" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let html = admin.get_text("/admin/users").await;
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;"));
}

#[tokio::test]
async fn users_page_creates_and_edits_with_inline_errors() {
    let app = spawn().await;
    let admin = app.admin().await;
    let csrf = admin.csrf.clone();
    let r = admin
        .client
        .post(app.url("/admin/users"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", "x"),
            ("password", "pw"),
            ("display_name", ""),
            ("email", ""),
            ("business_roles", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("must be 2 to 32 characters") && html.contains("at least 8 characters"));
    let r = admin
        .client
        .post(app.url("/admin/users"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", "frank"),
            ("password", "frank-password"),
            ("display_name", "Frank"),
            ("email", "f@acme.test"),
            ("roles", "developer"),
            ("roles", "reviewer"),
            ("business_roles", "sales, support"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let frank = store::users::list(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.username == "frank")
        .unwrap();
    assert_eq!(frank.roles.len(), 2);
    assert_eq!(frank.business_roles, ["sales", "support"]);
    let r = admin
        .client
        .post(app.url(&format!("/admin/users/{}", frank.id)))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("display_name", "Frank F"),
            ("email", ""),
            ("roles", "publisher"),
            ("business_roles", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let frank = store::users::get(&app.db, &frank.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(frank.display_name, "Frank F");
    assert!(!frank.active, "an unchecked box deactivates");
    assert_eq!(frank.roles, [access::PlatformRole::Publisher]);
}

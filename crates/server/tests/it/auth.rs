use crate::harness::{self, ADMIN_PASSWORD, audit_entries, client, error_of, spawn, spawn_with};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn login_me_logout() {
    let app = spawn().await;
    let s = app.admin().await;
    let me: Value = s.get("/api/me").send().await.unwrap().json().await.unwrap();
    assert_eq!(me["username"], "admin");
    assert_eq!(me["roles"], json!(["admin"]));
    assert!(
        me["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("users.manage"))
    );

    let resp = s.post("/api/auth/logout").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (status, code, _) = error_of(s.get("/api/me").send().await.unwrap()).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );

    let actions: Vec<_> = audit_entries(&app.admin().await, "auth")
        .await
        .iter()
        .map(|e| e["action"].clone())
        .collect();
    assert_eq!(
        actions[..3],
        [
            json!("auth.login"),
            json!("auth.logout"),
            json!("auth.login")
        ]
    );
}

#[tokio::test]
async fn session_cookie_is_httponly_and_samesite_lax() {
    let app = spawn().await;
    let resp = client()
        .post(app.url("/api/auth/login"))
        .json(&json!({ "username": "admin", "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    let cookie = resp
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("modgate_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");

    let app = spawn_with(|c| c.secure_cookies = true).await;
    let resp = client()
        .post(app.url("/api/auth/login"))
        .json(&json!({ "username": "admin", "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert!(
        resp.headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Secure")
    );
}

#[tokio::test]
async fn failed_logins_do_not_reveal_whether_the_user_exists() {
    let app = spawn().await;
    let try_login = |username: &'static str, password: &'static str| {
        let c = client();
        let url = app.url("/api/auth/login");
        async move {
            c.post(url)
                .json(&json!({ "username": username, "password": password }))
                .send()
                .await
                .unwrap()
        }
    };
    let (s1, c1, b1) = error_of(try_login("admin", "wrong-password").await).await;
    let (s2, c2, b2) = error_of(try_login("nobody", "wrong-password").await).await;
    assert_eq!(
        (s1, &c1),
        (StatusCode::UNAUTHORIZED, &"invalid_credentials".to_owned())
    );
    assert_eq!((s1, c1, b1), (s2, c2, b2));
}

#[tokio::test]
async fn repeated_failures_lock_the_name_existing_or_not() {
    let app = spawn_with(|c| c.login_max_failures = 3).await;
    for name in ["admin", "nobody"] {
        for _ in 0..2 {
            let r = client()
                .post(app.url("/api/auth/login"))
                .json(&json!({"username": name, "password": "nope-nope"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        }
        let r = client()
            .post(app.url("/api/auth/login"))
            .json(&json!({"username": name, "password": "nope-nope"}))
            .send()
            .await
            .unwrap();
        let (status, code, body) = error_of(r).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
            "{name}"
        );
        assert!(
            body["error"]["details"]["retryAfterSeconds"]
                .as_i64()
                .unwrap()
                > 0
        );
    }
    // While locked, even the right password is refused.
    let r = client()
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Failures are audited; the password never is.
    let admin_id: String = {
        let users = store::users::list(&app.db).await.unwrap();
        users[0].id.clone()
    };
    let (token, _) = app.session_for(&admin_id).await;
    let c = client();
    let v: Value = c
        .get(app.url("/api/audit?action=auth.login&outcome=failure&perPage=100"))
        .header("cookie", format!("modgate_session={token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = v["items"].as_array().unwrap();
    assert!(items.len() >= 6);
    let text = v.to_string();
    assert!(!text.contains("nope-nope") && !text.contains(ADMIN_PASSWORD));
}

#[tokio::test]
async fn inactive_users_cannot_log_in_and_lose_their_sessions() {
    let app = spawn().await;
    let admin = app.admin().await;
    let id = app.create_user(&admin, "carol", &["developer"]).await;
    let carol = app.login("carol", "carol-password").await;
    assert_eq!(
        carol.get("/api/me").send().await.unwrap().status(),
        StatusCode::OK
    );
    let r = admin
        .patch(&format!("/api/users/{id}"))
        .json(&json!({ "active": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        carol.get("/api/me").send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let r = client()
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "carol", "password": "carol-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn api_tokens_work_once_shown_and_can_be_revoked() {
    let app = spawn().await;
    let admin = app.admin().await;
    // Names are 1 to 100 characters as sent (the documented maxLength), blank refused.
    for name in [format!(" {}", "x".repeat(100)), "   ".to_owned()] {
        let r = admin
            .post("/api/tokens")
            .json(&json!({ "name": name }))
            .send()
            .await
            .unwrap();
        let (status, code, _) = error_of(r).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation")
        );
    }
    let r = admin
        .post("/api/tokens")
        .json(&json!({ "name": "ci" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("mgt_"));
    let id = created["id"].as_str().unwrap().to_owned();

    // Listing never shows the secret again.
    let list = admin.get_text("/api/tokens").await;
    assert!(!list.contains(&secret));
    // Nor does the database hold it.
    let stored: Vec<(String,)> = match &app.db {
        store::Db::Sqlite(store::SqliteDb { pool: p, .. }) => {
            sqlx::query_as("SELECT token_hash FROM api_tokens")
                .fetch_all(p)
                .await
                .unwrap()
        }
        store::Db::Postgres(store::PgDb { pool: p, .. }) => {
            sqlx::query_as("SELECT token_hash FROM api_tokens")
                .fetch_all(p)
                .await
                .unwrap()
        }
    };
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].0, secret);

    // A bearer call needs no CSRF token, even for a state change.
    let bearer = reqwest::Client::new();
    let me: Value = bearer
        .get(app.url("/api/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "admin");
    let r = bearer
        .post(app.url("/api/users"))
        .bearer_auth(&secret)
        .json(&json!({ "username": "viaapi", "password": "viaapi-password", "roles": [] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    let r = admin
        .delete(&format!("/api/tokens/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = bearer
        .get(app.url("/api/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (status, _, _) = error_of(
        admin
            .delete(&format!("/api/tokens/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let actions: Vec<_> = audit_entries(&admin, "token")
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["token.revoke", "token.create"]);
}

#[tokio::test]
async fn csrf_is_required_for_cookie_state_changes() {
    let app = spawn().await;
    let admin = app.admin().await;
    let body = json!({ "username": "eve1", "password": "eve1-password", "roles": [] });
    let r = admin
        .client
        .post(app.url("/api/users"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_of(r).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "csrf"));
    let r = admin
        .client
        .post(app.url("/api/users"))
        .header("x-csrf-token", "forged")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        store::users::list(&app.db)
            .await
            .unwrap()
            .iter()
            .all(|u| u.username != "eve1"),
        "nothing changed"
    );
    let r = admin.post("/api/users").json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    // Form posts: without `_csrf` refused, with it accepted.
    let form = [
        ("display_name", "Changed"),
        ("sort_order", "5"),
        ("label", "x"),
    ];
    let r = admin
        .client
        .post(app.url("/admin/menus/system.users"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = admin
        .client
        .post(app.url("/admin/menus/system.users"))
        .form(&[
            ("_csrf", admin.csrf.as_str()),
            ("label", "People"),
            ("sort_order", "170"),
            ("visible", "true"),
            ("permission", "users.manage"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // The login form needs its double-submit cookie.
    let c = client();
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
            ("_csrf", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let page = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = page
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
            ("_csrf", &token),
            ("next", "/admin/users"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/admin/users");
    let r = c.get(app.url("/admin/users")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn form_login_shows_errors_and_logout_ends_the_session() {
    let app = spawn().await;
    let c = client();
    let page = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = page
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("username", "admin"),
            ("password", "wrong-password"),
            ("_csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("invalid username or password")
    );
    let admin = app.admin().await;
    let r = admin
        .client
        .post(app.url("/logout"))
        .form(&[("_csrf", admin.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        admin.get("/api/me").send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let _ = harness::ADMIN_PASSWORD;
}

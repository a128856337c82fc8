//! Every route × every role (and anonymous): the declared access is what is enforced.
//! A route added without going through the route table cannot exist, and one added
//! through it is walked here automatically.

use crate::harness::{TestApp, spawn};
use access::{Access, PlatformRole};
use reqwest::{Method, StatusCode};
use server::http::routing::{RouteInfo, Surface};

fn concrete(path: &str) -> String {
    path.replace("{id}", "00000000-0000-0000-0000-000000000000")
        .replace("{slug}", "index")
}

async fn call(app: &TestApp, route: &RouteInfo, cookie: Option<(&str, &str)>) -> reqwest::Response {
    let c = crate::harness::client();
    let method = Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
    let mut req = c.request(method.clone(), app.url(&concrete(&route.path)));
    if let Some((token, csrf)) = cookie {
        req = req
            .header("cookie", format!("modgate_session={token}"))
            .header("x-csrf-token", csrf);
    }
    if method != Method::GET {
        req = match route.surface {
            Surface::Api => req.json(&serde_json::json!({})),
            Surface::Page => req.form(&[("x", "y")]),
        };
    }
    req.send().await.unwrap()
}

fn is_login_redirect(r: &reqwest::Response) -> bool {
    r.status() == StatusCode::SEE_OTHER
        && r.headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .is_some_and(|l| l.starts_with("/login"))
}

#[tokio::test]
async fn every_route_every_role() {
    let app = spawn().await;
    let admin = app.admin().await;
    let mut users: Vec<(String, Vec<PlatformRole>)> = Vec::new();
    for role in PlatformRole::ALL {
        let id = app
            .create_user(&admin, &format!("m-{role}"), &[role.as_str()])
            .await;
        users.push((id, vec![role]));
    }
    let id = app.create_user(&admin, "m-none", &[]).await;
    users.push((id, vec![]));

    let table = server::http::routes().table;
    assert!(table.len() > 30, "the table lists the app's routes");
    let mut checked = 0;
    for route in &table {
        // Logging out would end the session under test; it is covered elsewhere.
        let logs_out = route.path.ends_with("logout");
        // Login answers 401 for bad credentials: a statement about the password, not about access.
        let logs_in = route.path.ends_with("login") && route.method != reqwest::Method::GET;
        // Metrics check their own credentials (admins, or the scraper's token).
        let own_credentials = route.path == "/metrics";
        let anon = call(&app, route, None).await;
        match route.access {
            Access::Public => assert!(
                logs_in || own_credentials || anon.status() != StatusCode::UNAUTHORIZED,
                "{route:?}"
            ),
            _ => match route.surface {
                Surface::Api => assert_eq!(
                    anon.status(),
                    StatusCode::UNAUTHORIZED,
                    "anonymous {route:?}"
                ),
                Surface::Page => assert!(
                    is_login_redirect(&anon),
                    "anonymous {route:?} got {}",
                    anon.status()
                ),
            },
        }
        if logs_out {
            continue;
        }
        for (user_id, roles) in &users {
            let (token, csrf) = app.session_for(user_id).await;
            let allowed = match route.access {
                // Administrators (the scraper's token is tested in metrics.rs).
                _ if own_credentials => roles.contains(&PlatformRole::Admin),
                Access::Public | Access::Authenticated => true,
                Access::Permission(p) => roles.iter().any(|r| r.permissions().contains(&p)),
                Access::AnyOf(ps) => roles
                    .iter()
                    .any(|r| ps.iter().any(|p| r.permissions().contains(p))),
            };
            let resp = call(&app, route, Some((&token, &csrf))).await;
            let status = resp.status();
            if allowed {
                assert!(
                    (logs_in || status != StatusCode::UNAUTHORIZED)
                        && status != StatusCode::FORBIDDEN
                        && !is_login_redirect(&resp),
                    "{roles:?} should reach {} {} but got {status}",
                    route.method,
                    route.path
                );
                assert!(
                    status.as_u16() < 500,
                    "{roles:?} {} {} answered {status}",
                    route.method,
                    route.path
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{roles:?} must not reach {} {}",
                    route.method,
                    route.path
                );
                if route.surface == Surface::Api {
                    let body: serde_json::Value = resp.json().await.unwrap();
                    assert_eq!(body["error"]["code"], "forbidden");
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 150, "checked {checked} route × role pairs");
}

#[tokio::test]
async fn spot_checks_of_the_role_matrix() {
    // Independent of the role table in `access`: what docs/users-and-permissions.md promises.
    let app = spawn().await;
    let admin = app.admin().await;
    app.create_user(&admin, "dev", &["developer"]).await;
    app.create_user(&admin, "rev", &["reviewer"]).await;
    let dev = app.login("dev", "dev-password").await;
    let rev = app.login("rev", "rev-password").await;
    assert_eq!(
        dev.get("/api/users").send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        dev.get("/api/audit").send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        dev.get("/api/menu-items").send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        rev.get("/api/audit").send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        rev.get("/api/users").send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        admin.get("/api/users").send().await.unwrap().status(),
        StatusCode::OK
    );
}

#[test]
fn every_api_route_is_in_the_openapi_document_and_vice_versa() {
    let routes = server::http::routes();
    let doc = serde_json::to_value(server::http::openapi::document(&routes)).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    let mut in_doc = 0;
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            assert!(
                routes
                    .table
                    .iter()
                    .any(|r| r.path == *path && r.method.as_str().eq_ignore_ascii_case(method)),
                "{method} {path} is documented but not routed"
            );
            in_doc += 1;
        }
    }
    let api_routes = routes
        .table
        .iter()
        .filter(|r| r.surface == Surface::Api)
        .count();
    assert_eq!(in_doc, api_routes);
    for r in routes.table.iter().filter(|r| r.surface == Surface::Api) {
        let op = &paths[&r.path][r.method.as_str().to_lowercase()];
        assert!(
            op["responses"].as_object().is_some_and(|m| !m.is_empty()),
            "{} {} documents its responses",
            r.method,
            r.path
        );
    }
}

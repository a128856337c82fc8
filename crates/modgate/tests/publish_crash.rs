//! kill -9 of the server in the middle of publishing and unpublishing, at several
//! moments: after each restart the stored live spec is what the published set
//! composes to (`modgate spec verify`), the published set behind the newest spec
//! version is the published set, and the audit chain holds (`modgate audit verify`).

mod common;

use common::{Api, Env, free_port, text};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const PASSWORD: &str = "crash-test-password";

fn serve(env: &Env, port: u16) -> Child {
    env.cmd(&["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("MODGATE_ADMIN_PASSWORD", PASSWORD)
        .env(
            "MODGATE_SECRET_KEY",
            "crash-test-instance-secret-0123456789",
        )
        .env("MODGATE_TEST_GATE", "0")
        .env("MODGATE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_up(base: &str) {
    for _ in 0..200 {
        if reqwest::get(format!("{base}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not come up");
}

fn kill9(child: &mut Child) {
    Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    let _ = child.wait();
}

#[tokio::test]
async fn kill_9_mid_publish_leaves_the_old_or_the_new_state_never_a_mix() {
    let env = Env::new().await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = serve(&env, port);
    wait_up(&base).await;

    // Two approved modules: one adds an object with pages and a menu item, the other a field.
    let admin = Api::login(&base, "admin", PASSWORD).await;
    let (s, _) = admin
        .post(
            "/api/users",
            json!({ "username": "rev", "password": "rev-password-1", "roles": ["reviewer"] }),
        )
        .await;
    assert_eq!(s, 201);
    let rev = Api::login(&base, "rev", "rev-password-1").await;
    let campaign: Value = serde_json::from_str(include_str!(
        "../../../examples/patches/object-new-campaign.json"
    ))
    .unwrap();
    let loyalty: Value = serde_json::from_str(include_str!(
        "../../../examples/patches/object-loyalty-points.json"
    ))
    .unwrap();
    let mut modules = Vec::new();
    for (name, patch) in [("Campaigns", campaign), ("Loyalty", loyalty)] {
        let (s, m) = admin.post("/api/modules", json!({ "name": name })).await;
        assert_eq!(s, 201, "{m}");
        let id = m["id"].as_str().unwrap().to_owned();
        let (s, v) = admin
            .post(&format!("/api/modules/{id}/versions"),
                json!({ "patch": patch, "message": "by hand", "baseVersion": 0, "confirmL2": true }))
            .await;
        assert_eq!(s, 201, "{v}");
        let (s, run) = admin
            .post(&format!("/api/modules/{id}/test-runs"), json!({}))
            .await;
        assert_eq!(
            (s, &run["ready"]),
            (201, &json!(true)),
            "{}",
            run["report"]["gate"]
        );
        let (s, r) = admin
            .post(
                &format!("/api/modules/{id}/submit"),
                json!({ "version": 1 }),
            )
            .await;
        assert_eq!(s, 201, "{r}");
        let (s, a) = rev
            .post(
                &format!("/api/reviews/{}/approve", r["id"].as_str().unwrap()),
                json!({}),
            )
            .await;
        assert_eq!(s, 200, "{a}");
        modules.push(id);
    }

    // Publish or unpublish, and kill the server at a different moment each time.
    let delays = [0u64, 1, 2, 4, 8, 15, 30, 60, 2000];
    let mut completed = 0;
    for (i, delay) in delays.iter().enumerate() {
        let api = Api::login(&base, "admin", PASSWORD).await;
        let id = &modules[i % 2];
        let live = api.get("/api/publications").await["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["moduleId"] == id.as_str() && p["status"] == "published");
        let (path, body) = if live {
            (format!("/api/modules/{id}/unpublish"), json!({}))
        } else {
            (
                format!("/api/modules/{id}/publish"),
                json!({ "version": 1 }),
            )
        };
        let request = tokio::spawn(async move { api.post(&path, body).await });
        tokio::time::sleep(Duration::from_millis(*delay)).await;
        kill9(&mut server);
        if let Ok(Ok((200, _))) = tokio::time::timeout(Duration::from_secs(5), request).await {
            completed += 1;
        }

        // Stopped hard: the stored state must still be whole.
        let out = env.run(&["spec", "verify"], None);
        assert_eq!(
            out.status.code(),
            Some(0),
            "after a kill at {delay} ms: {}",
            text(&out.stdout)
        );
        let out = env.run(&["audit", "verify"], None);
        assert_eq!(
            out.status.code(),
            Some(0),
            "after a kill at {delay} ms: {}",
            text(&out.stdout)
        );

        server = serve(&env, port);
        wait_up(&base).await;
        let api = Api::login(&base, "admin", PASSWORD).await;
        // The published set behind the newest spec version is the published set.
        let pubs = api.get("/api/publications").await;
        let history = api.get("/api/spec/versions").await;
        let newest = history["items"][0]["number"].as_i64().unwrap();
        for p in pubs["items"].as_array().unwrap() {
            if p["status"] == "published" {
                assert!(p["specVersion"].as_i64().unwrap() <= newest);
            }
        }
        let spec = api.get("/api/spec").await.to_string();
        let campaigns_live = pubs["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["moduleId"] == modules[0].as_str() && p["status"] == "published");
        assert_eq!(
            spec.contains("\"Campaign\""),
            campaigns_live,
            "after a kill at {delay} ms"
        );
    }
    assert!(
        completed >= 1,
        "at least the slowest kill came after the answer"
    );
    kill9(&mut server);
}

//! Review and its notifications, through the API: submit (and refusals with their
//! reasons), comments, reject, resubmit, four-eyes, approve, concurrent decisions,
//! supersession, assignment and withdrawal; in-app notifications with the live count;
//! webhooks verified by a Standard Webhooks library, through a receiver that fails
//! twice; emails through a local SMTP sink.

use crate::harness::{
    Session, TestApp, audit_entries, error_of, json_of, restart, spawn, spawn_replica, spawn_with,
};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const READY_PROMPT: &str = "add an integer field loyaltyPoints to Customer with min 0";

/// A user with a session; `roles` as the API takes them.
async fn user(app: &TestApp, admin: &Session, name: &str, roles: &[&str]) -> Session {
    let r = admin
        .post("/api/users")
        .json(
            &json!({ "username": name, "password": format!("{name}-password"), "roles": roles,
                       "email": format!("{name}@example.test") }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    app.login(name, &format!("{name}-password")).await
}

async fn new_module(s: &Session, name: &str) -> String {
    let r = s
        .post("/api/modules")
        .json(&json!({ "name": name }))
        .send()
        .await
        .unwrap();
    json_of(r, StatusCode::CREATED).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn generate(s: &Session, id: &str, prompt: &str) -> i64 {
    let r = s
        .post(&format!("/api/modules/{id}/generate"))
        .json(&json!({ "prompt": prompt }))
        .send()
        .await
        .unwrap();
    json_of(r, StatusCode::CREATED).await["version"]["number"]
        .as_i64()
        .unwrap()
}

async fn test_run(s: &Session, id: &str) -> Value {
    let r = s
        .post(&format!("/api/modules/{id}/test-runs"))
        .send()
        .await
        .unwrap();
    json_of(r, StatusCode::CREATED).await
}

async fn submit(s: &Session, id: &str, version: i64, extra: Value) -> reqwest::Response {
    let mut body = json!({ "version": version });
    if let (Some(b), Some(x)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(x.clone());
    }
    s.post(&format!("/api/modules/{id}/submit"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// A module by `dev` with a tested version, submitted; returns (module, review).
async fn submitted(dev: &Session, name: &str, extra: Value) -> (String, String) {
    let id = new_module(dev, name).await;
    let v = generate(dev, &id, READY_PROMPT).await;
    assert_eq!(test_run(dev, &id).await["ready"], true);
    let review = json_of(submit(dev, &id, v, extra).await, StatusCode::CREATED).await;
    assert_eq!(review["status"], "pending");
    (id, review["id"].as_str().unwrap().to_owned())
}

async fn unread(s: &Session) -> Vec<Value> {
    s.get_json("/api/notifications?unread=true").await["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn events(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|n| n["event"].as_str().unwrap().to_owned())
        .collect()
}

/// What the webhook receiver saw: per request, the event id, event, the status it
/// answered and whether the library verified the signature.
#[derive(Default)]
struct Receiver {
    secret: Mutex<Option<String>>,
    fail_first: AtomicUsize,
    seen: Mutex<Vec<(String, String, u16, bool)>>,
}

async fn receive(State(rx): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> AxumStatus {
    let secret = rx.secret.lock().unwrap().clone().unwrap_or_default();
    let verified = standardwebhooks::Webhook::new(&secret)
        .map(|wh| wh.verify(&body, &headers).is_ok())
        .unwrap_or(false);
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let event = headers
        .get("x-modgate-event")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let payload: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    assert_eq!(
        payload["id"],
        id.as_str(),
        "the payload's id is the webhook-id"
    );
    let fail = rx
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let status = if fail { 500 } else { 204 };
    rx.seen.lock().unwrap().push((id, event, status, verified));
    AxumStatus::from_u16(status).unwrap()
}

/// A webhook to `body`'s URL; its id and its secret (shown this once).
async fn create_hook(admin: &Session, body: Value) -> (String, String) {
    let w = json_of(
        admin
            .post("/api/webhooks")
            .json(&body)
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    (
        w["id"].as_str().unwrap().to_owned(),
        w["secret"].as_str().unwrap().to_owned(),
    )
}

async fn start_receiver(fail_first: usize) -> (String, Arc<Receiver>) {
    start_receiver_on(0, fail_first).await
}

async fn start_receiver_on(port: u16, fail_first: usize) -> (String, Arc<Receiver>) {
    let rx = Arc::new(Receiver {
        fail_first: AtomicUsize::new(fail_first),
        ..Receiver::default()
    });
    let router = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(rx.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{addr}/hook"), rx)
}

/// A minimal SMTP server that accepts every message and keeps its envelope recipient
/// and text.
async fn start_smtp_sink() -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mail = Arc::new(Mutex::new(Vec::new()));
    let keep = mail.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let keep = keep.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let (mut rcpt, mut data, mut in_data) = (String::new(), String::new(), false);
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            keep.lock()
                                .unwrap()
                                .push((rcpt.clone(), std::mem::take(&mut data)));
                            w.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            data.push_str(&line);
                            data.push('\n');
                        }
                        continue;
                    }
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250 sink\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        rcpt = line[8..].trim().trim_matches(['<', '>']).to_owned();
                        b"250 ok\r\n"
                    } else if upper.starts_with("DATA") {
                        in_data = true;
                        b"354 go ahead\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 ok\r\n"
                    };
                    if w.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (format!("smtp://{addr}"), mail)
}

/// Waits (bounded) until `check` holds; the bound only keeps a broken build from
/// hanging the suite.
async fn eventually<F: FnMut() -> Fut, Fut: std::future::Future<Output = bool>>(
    what: &str,
    mut check: F,
) {
    for _ in 0..300 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen within 30 s");
}

#[tokio::test]
async fn the_whole_review_workflow_with_every_channel() {
    let (smtp, mail) = start_smtp_sink().await;
    let app = spawn_with(|c| {
        c.smtp_url = Some(smtp.clone().into());
        c.mail_from = Some("modgate@example.test".into());
    })
    .await;
    let admin = app.admin().await;
    // The developer may review too: four-eyes, not a missing permission, stops them.
    let dev = user(&app, &admin, "dev", &["developer", "reviewer"]).await;
    let rev1 = user(&app, &admin, "rev1", &["reviewer"]).await;
    let rev2 = user(&app, &admin, "rev2", &["reviewer"]).await;

    let (hook_url, receiver) = start_receiver(2).await;
    let (hook, secret) = create_hook(&admin, json!({ "url": hook_url })).await;
    assert!(secret.starts_with("whsec_"));
    *receiver.secret.lock().unwrap() = Some(secret.clone());
    // The secret is shown once: never in a listing.
    let listed = admin.get_json("/api/webhooks").await.to_string();
    assert!(
        !listed.contains(&secret) && !listed.contains("secret\""),
        "{listed}"
    );

    // An untested module is refused with its reasons; nothing changes.
    let id = new_module(&dev, "Loyalty").await;
    let v1 = generate(&dev, &id, READY_PROMPT).await;
    let (status, code, body) = error_of(submit(&dev, &id, v1, json!({})).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "not_ready"));
    let reasons: Vec<&str> = body["error"]["details"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["untested"], "{body}");
    assert_eq!(
        dev.get_json(&format!("/api/modules/{id}")).await["status"],
        "draft"
    );
    assert!(
        dev.get_json(&format!("/api/modules/{id}/reviews")).await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // A version whose coverage is below the gate: the reason carries need and have.
    let bare_id = new_module(&dev, "Bare").await;
    let bare = json!({ "dsl": "modgate.patch/v1", "title": "Bare", "operations": [
        { "scope": "object", "op": "add", "target": { "object": "Customer", "field": "loyaltyPoints" },
          "value": { "type": "integer", "label": "Loyalty points", "min": 0 } } ], "tests": [] });
    let saved = dev
        .post(&format!("/api/modules/{bare_id}/versions"))
        .json(&json!({ "patch": bare, "message": "no scenarios", "baseVersion": 0 }))
        .send()
        .await
        .unwrap();
    let b1 = json_of(saved, StatusCode::CREATED).await["number"]
        .as_i64()
        .unwrap();
    test_run(&dev, &bare_id).await;
    let (_, code, body) = error_of(submit(&dev, &bare_id, b1, json!({})).await).await;
    assert_eq!(code, "not_ready");
    let cov = &body["error"]["details"]["reasons"][0];
    assert_eq!(cov["reason"], "coverage", "{body}");
    assert_eq!(cov["need"], 0.8);
    assert!(cov["have"].as_f64().unwrap() < 0.8);

    // Tested now, but no longer the current version once another is saved.
    assert_eq!(test_run(&dev, &id).await["ready"], true);
    let restored = dev
        .post(&format!("/api/modules/{id}/restore"))
        .json(&json!({ "version": v1 }))
        .send()
        .await
        .unwrap();
    let v3 = json_of(restored, StatusCode::CREATED).await["number"]
        .as_i64()
        .unwrap();
    let (_, _, body) = error_of(submit(&dev, &id, v1, json!({})).await).await;
    assert_eq!(
        body["error"]["details"]["reasons"][0]["reason"], "not_current",
        "{body}"
    );

    // A tested, ready version goes to review; reviewers hear about it.
    assert_eq!(test_run(&dev, &id).await["ready"], true);
    let review = json_of(
        submit(&dev, &id, v3, json!({ "note": "please look" })).await,
        StatusCode::CREATED,
    )
    .await;
    let rid = review["id"].as_str().unwrap().to_owned();
    assert_eq!(review["status"], "pending");
    assert_eq!(review["coverage"].as_f64().map(|c| c >= 0.8), Some(true));
    assert_eq!(
        dev.get_json(&format!("/api/modules/{id}")).await["status"],
        "pending_review"
    );
    assert_eq!(events(&unread(&rev1).await), ["review.submitted"]);
    assert!(
        unread(&dev).await.is_empty(),
        "the actor is not told of their own act"
    );
    let (status, code, _) = error_of(submit(&dev, &id, v3, json!({})).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "wrong_status")
    );

    // The review carries the hash, the report and the provenance.
    let detail = rev1.get_json(&format!("/api/reviews/{rid}")).await;
    assert_eq!(detail["contentHash"], detail["versionInfo"]["contentHash"]);
    assert_eq!(detail["testRun"]["status"], "passed");
    assert!(
        detail["specDiff"]
            .as_str()
            .unwrap()
            .contains("loyaltyPoints")
    );
    assert!(
        detail["generations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["startedBy"] == "dev" && g["attempts"].as_i64() >= Some(1))
    );
    // The generation that made v1 is tied to it (v3 restored v1: no generation of its own).
    let gens = detail["generations"].as_array().unwrap();
    assert_eq!(gens[0]["version"], v1, "{gens:?}");
    assert!(gens.iter().all(|g| g["tokensIn"].as_i64().is_some()));
    assert_eq!(
        detail["allowed"]["approve"],
        Value::Null,
        "{}",
        detail["allowed"]
    );

    // A comment on operation 0 (Markdown rendered safely); an operation that does not exist is refused.
    let c = json_of(
        rev1.post(&format!("/api/reviews/{rid}/comments"))
            .json(&json!({ "body": "Why **min 0**? <script>x</script>", "operation": 0 }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert!(
        c["bodyHtml"]
            .as_str()
            .unwrap()
            .contains("<strong>min 0</strong>")
    );
    assert!(!c["bodyHtml"].as_str().unwrap().contains("<script"));
    let (status, code, body) = error_of(
        rev1.post(&format!("/api/reviews/{rid}/comments"))
            .json(&json!({ "body": "x", "operation": 99 }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation"),
        "{body}"
    );
    assert!(events(&unread(&dev).await).contains(&"review.commented".to_owned()));

    // Rejecting needs a reason; with one, the module is a draft again.
    for bad in [
        json!({ "reason": "" }),
        json!({ "reason": "   " }),
        json!({}),
    ] {
        let (status, _, _) = error_of(
            rev1.post(&format!("/api/reviews/{rid}/reject"))
                .json(&bad)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let rejected = json_of(
        rev1.post(&format!("/api/reviews/{rid}/reject"))
            .json(&json!({ "reason": "points must have a maximum" }))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(
        dev.get_json(&format!("/api/modules/{id}")).await["status"],
        "draft"
    );
    let told = unread(&dev).await;
    let rej = told
        .iter()
        .find(|n| n["event"] == "review.rejected")
        .expect("the developer is told");
    assert_eq!(
        rej["payload"]["review"]["reason"],
        "points must have a maximum"
    );
    let page = dev
        .get_text(&format!("/admin/ai-modules/develop/{id}"))
        .await;
    assert!(
        page.contains("points must have a maximum"),
        "the workspace shows the reason"
    );

    // The developer revises and resubmits: a new review; the old one stays in history.
    let v4 = generate(
        &dev,
        &id,
        "add an integer field rewardPoints to Customer with min 0",
    )
    .await;
    assert_eq!(test_run(&dev, &id).await["ready"], true);
    let second = json_of(submit(&dev, &id, v4, json!({})).await, StatusCode::CREATED).await;
    let rid2 = second["id"].as_str().unwrap().to_owned();
    let d2 = rev2.get_json(&format!("/api/reviews/{rid2}")).await;
    assert_eq!(d2["history"][0]["id"], rid.as_str());

    // The author cannot approve: four-eyes, whatever their roles.
    let (status, code, body) = error_of(
        dev.post(&format!("/api/reviews/{rid2}/approve"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "four_eyes"),
        "{body}"
    );
    let d = dev.get_json(&format!("/api/reviews/{rid2}")).await;
    assert!(
        d["allowed"]["approve"]
            .as_str()
            .unwrap()
            .contains("four-eyes")
    );

    // Another reviewer approves; the approval binds to the version's hash.
    let approved = json_of(
        rev2.post(&format!("/api/reviews/{rid2}/approve"))
            .json(&json!({ "note": "fine" }))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["decidedBy"], "rev2");
    assert_eq!(
        approved["contentHash"],
        dev.get_json(&format!("/api/modules/{id}/versions/{v4}"))
            .await["contentHash"]
    );
    assert_eq!(
        dev.get_json(&format!("/api/modules/{id}")).await["status"],
        "approved"
    );
    assert!(
        events(&unread(&admin).await).contains(&"review.approved".to_owned()),
        "administrators hear of approvals"
    );
    let (status, _, _) = error_of(
        rev1.post(&format!("/api/reviews/{rid2}/reject"))
            .json(&json!({ "reason": "late" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a decided review stays decided"
    );

    // Every state change is audited.
    for action in [
        "review.submit",
        "review.comment",
        "review.reject",
        "review.approve",
    ] {
        assert!(
            !audit_entries(&admin, action).await.is_empty(),
            "{action} audited"
        );
    }

    // The webhook receiver, which answered 500 twice, verified every event in the end.
    // Five events: submitted, commented, rejected, submitted, approved.
    eventually("every delivery went out", || async {
        let d = admin
            .get_json(&format!("/api/webhooks/{hook}/deliveries"))
            .await;
        let items = d["items"].as_array().unwrap();
        items.len() == 5 && items.iter().all(|i| i["status"] == "delivered")
    })
    .await;
    let seen = receiver.seen.lock().unwrap().clone();
    assert!(seen.iter().all(|(_, _, _, verified)| *verified), "{seen:?}");
    assert_eq!(seen.iter().filter(|s| s.2 == 500).count(), 2);
    let d = admin
        .get_json(&format!("/api/webhooks/{hook}/deliveries"))
        .await;
    let retried: Vec<&Value> = d["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["attempts"].as_array().unwrap().len() > 1)
        .collect();
    assert!(!retried.is_empty(), "{d}");
    for r in &retried {
        let codes: Vec<i64> = r["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["statusCode"].as_i64().unwrap())
            .collect();
        assert_eq!(codes.last(), Some(&204), "{r}");
        assert!(codes[..codes.len() - 1].iter().all(|c| *c == 500), "{r}");
        // A retry carries the same webhook-id.
        let id = r["eventId"].as_str().unwrap();
        assert_eq!(seen.iter().filter(|s| s.0 == id).count(), codes.len());
    }
    let events_seen: std::collections::BTreeSet<&str> = seen.iter().map(|s| s.1.as_str()).collect();
    for e in [
        "review.submitted",
        "review.commented",
        "review.rejected",
        "review.approved",
    ] {
        assert!(events_seen.contains(e), "{e} delivered: {events_seen:?}");
    }
    assert!(
        !audit_entries(&admin, "webhook.delivery").await.is_empty(),
        "delivery attempts are audited"
    );

    // Emails went to the people concerned.
    eventually("the emails went out", || async {
        let m = mail.lock().unwrap();
        m.iter()
            .any(|(to, text)| to == "rev1@example.test" && text.contains("submitted for review"))
            && m.iter()
                .any(|(to, text)| to == "dev@example.test" && text.contains("rejected"))
    })
    .await;
}

#[tokio::test]
async fn two_concurrent_approvals_leave_one_decision() {
    let app = spawn().await;
    let admin = app.admin().await;
    let dev = user(&app, &admin, "dev", &["developer"]).await;
    let rev1 = user(&app, &admin, "rev1", &["reviewer"]).await;
    let rev2 = user(&app, &admin, "rev2", &["reviewer"]).await;
    for round in 0..3 {
        let (id, rid) = submitted(&dev, &format!("Concurrent {round}"), json!({})).await;
        let path = format!("/api/reviews/{rid}/approve");
        let reject = format!("/api/reviews/{rid}/reject");
        let (a, b) = tokio::join!(
            rev1.post(&path).send(),
            rev2.post(&reject).json(&json!({ "reason": "no" })).send()
        );
        let mut statuses = [a.unwrap().status(), b.unwrap().status()];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CONFLICT],
            "round {round}"
        );
        let r = rev1.get_json(&format!("/api/reviews/{rid}")).await;
        let m = dev.get_json(&format!("/api/modules/{id}")).await;
        match r["status"].as_str().unwrap() {
            "approved" => assert_eq!(m["status"], "approved"),
            "rejected" => assert_eq!(m["status"], "draft"),
            other => panic!("{other}"),
        }
    }
    let decisions = audit_entries(&admin, "review.approve").await.len()
        + audit_entries(&admin, "review.reject").await.len();
    assert_eq!(decisions, 3, "one decision per review");
}

#[tokio::test]
async fn a_new_version_supersedes_assignment_claim_and_withdrawal() {
    let app = spawn().await;
    let admin = app.admin().await;
    let dev = user(&app, &admin, "dev", &["developer"]).await;
    let other = user(&app, &admin, "other", &["developer"]).await;
    let rev1 = user(&app, &admin, "rev1", &["reviewer"]).await;
    let rev2 = user(&app, &admin, "rev2", &["reviewer"]).await;

    // Reviewers named at submission: others may not decide, but may claim.
    let (id, rid) = submitted(&dev, "Assigned", json!({ "reviewers": ["rev1"] })).await;
    assert_eq!(events(&unread(&rev1).await), ["review.submitted"]);
    assert!(
        unread(&rev2).await.is_empty(),
        "only the assigned reviewer is told"
    );
    let (status, code, _) = error_of(
        rev2.post(&format!("/api/reviews/{rid}/approve"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "not_assigned")
    );
    let queue = rev1.get_json("/api/reviews?assigned=me").await;
    assert_eq!(queue["items"][0]["id"], rid.as_str());
    assert!(
        rev2.get_json("/api/reviews?assigned=me").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let claimed = json_of(
        rev2.post(&format!("/api/reviews/{rid}/claim"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(claimed["status"], "reviewing");
    assert_eq!(claimed["reviewers"], json!(["rev1", "rev2"]));
    assert_eq!(
        dev.get_json(&format!("/api/modules/{id}")).await["status"],
        "reviewing"
    );
    // Naming an unknown or non-reviewing user is refused, by field.
    let (status, _, body) = error_of(
        admin
            .post(&format!("/api/reviews/{rid}/assign"))
            .json(&json!({ "reviewers": ["dev", "ghost"] }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["error"]["details"]["fields"].as_array().unwrap().len(),
        2,
        "{body}"
    );
    let (status, _, _) = error_of(
        rev1.post(&format!("/api/reviews/{rid}/assign"))
            .json(&json!({ "reviewers": ["rev1"] }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only administrators assign");

    // A new version supersedes the open review and returns the module to draft.
    let current = dev.get_json(&format!("/api/modules/{id}")).await["currentVersion"]
        .as_i64()
        .unwrap();
    generate(
        &dev,
        &id,
        "add an integer field visits to Customer with min 0",
    )
    .await;
    let r = rev1.get_json(&format!("/api/reviews/{rid}")).await;
    assert_eq!(r["status"], "superseded");
    assert_eq!(
        dev.get_json(&format!("/api/modules/{id}")).await["status"],
        "draft"
    );
    assert!(events(&unread(&rev1).await).contains(&"review.superseded".to_owned()));
    assert!(current >= 1);

    // Four-eyes holds for administrators too: one who generated a version may not decide.
    let (_, own) = submitted(&admin, "Admin's own", json!({})).await;
    let (status, code, _) = error_of(
        admin
            .post(&format!("/api/reviews/{own}/approve"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "four_eyes")
    );

    // Withdrawal: only by the submitter.
    test_run(&dev, &id).await;
    let v = dev.get_json(&format!("/api/modules/{id}")).await["currentVersion"]
        .as_i64()
        .unwrap();
    let r = json_of(submit(&dev, &id, v, json!({})).await, StatusCode::CREATED).await;
    let rid = r["id"].as_str().unwrap();
    let (status, code, _) = error_of(
        other
            .post(&format!("/api/reviews/{rid}/withdraw"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "not_submitter")
    );
    let w = json_of(
        dev.post(&format!("/api/reviews/{rid}/withdraw"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(w["status"], "withdrawn");
    assert_eq!(
        dev.get_json(&format!("/api/modules/{id}")).await["status"],
        "draft"
    );
    let (status, _, _) = error_of(
        rev1.post(&format!("/api/reviews/{rid}/claim"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Bad filters are named.
    let (status, _, body) =
        error_of(rev1.get("/api/reviews?status=done").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

#[tokio::test]
async fn notifications_can_be_read_turned_off_and_counted_live() {
    let app = spawn().await;
    let admin = app.admin().await;
    let dev = user(&app, &admin, "dev", &["developer"]).await;
    let rev1 = user(&app, &admin, "rev1", &["reviewer"]).await;
    let rev2 = user(&app, &admin, "rev2", &["reviewer"]).await;

    // rev2 turns off in-app review.submitted; unknown events are refused.
    let prefs =
        json!({ "preferences": [{ "event": "review.submitted", "inApp": false, "email": true }] });
    let r = rev2
        .client
        .put(format!("{}/api/notifications/preferences", app.base))
        .header("x-csrf-token", &rev2.csrf)
        .json(&prefs)
        .send()
        .await
        .unwrap();
    let got = json_of(r, StatusCode::OK).await;
    assert_eq!(
        got["preferences"][0],
        json!({ "event": "review.submitted", "inApp": false, "email": true })
    );
    let bad = json!({ "preferences": [{ "event": "review.nope", "inApp": false, "email": true }] });
    let r = rev2
        .client
        .put(format!("{}/api/notifications/preferences", app.base))
        .header("x-csrf-token", &rev2.csrf)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, StatusCode::UNPROCESSABLE_ENTITY);

    // The live count: an `unread` event now, and another when something arrives.
    let mut stream = rev1
        .get("/api/notifications/stream")
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let mut buf = String::new();
    let mut next_count = async || -> i64 {
        loop {
            if let Some(i) = buf.find("\n\n") {
                let ev: String = buf.drain(..i + 2).collect();
                if let Some(data) = ev.lines().find_map(|l| l.strip_prefix("data:")) {
                    return serde_json::from_str::<Value>(data.trim()).unwrap()["count"]
                        .as_i64()
                        .unwrap();
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(30), stream.chunk())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    assert_eq!(next_count().await, 0);
    submitted(&dev, "Counted", json!({})).await;
    assert_eq!(next_count().await, 1);

    assert!(unread(&rev2).await.is_empty(), "rev2 turned it off");
    let list = unread(&rev1).await;
    let nid = list[0]["id"].as_str().unwrap();
    assert!(
        list[0]["summary"]
            .as_str()
            .unwrap()
            .contains("submitted for review")
    );
    assert!(
        list[0]["link"]
            .as_str()
            .unwrap()
            .starts_with("/admin/ai-modules/review/")
    );
    assert_eq!(
        rev1.post(&format!("/api/notifications/{nid}/read"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(next_count().await, 0);
    assert!(unread(&rev1).await.is_empty());
    // Someone else's notification is not found for another user.
    let (status, _, _) = error_of(
        rev2.post(&format!("/api/notifications/{nid}/read"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Without asking for a stream, the count now as JSON.
    assert_eq!(rev1.get_json("/api/notifications/stream").await["count"], 0);
    let all = rev1.get_json("/api/notifications").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    assert_eq!(all["unread"], 0);
    let marked = json_of(
        admin
            .post("/api/notifications/read-all")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(marked["marked"].as_u64().is_some());
}

#[tokio::test]
async fn webhooks_are_managed_by_administrators_and_rotate_with_both_signatures() {
    let app = spawn().await;
    let admin = app.admin().await;
    let dev = user(&app, &admin, "dev", &["developer"]).await;
    let (status, _, _) = error_of(
        dev.post("/api/webhooks")
            .json(&json!({ "url": "http://127.0.0.1:9/x" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for (bad, field) in [
        (json!({ "url": "ftp://example.test/x" }), "url"),
        (json!({ "url": "not a url" }), "url"),
        (
            json!({ "url": "http://example.test/x", "events": ["review.nope"] }),
            "events[0]",
        ),
    ] {
        let (status, _, body) =
            error_of(admin.post("/api/webhooks").json(&bad).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(
            body["error"]["details"]["fields"][0]["field"], field,
            "{body}"
        );
    }
    assert!(
        admin.get_json("/api/webhooks").await["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing stored"
    );

    let (url, receiver) = start_receiver(0).await;
    let (hook, first) = create_hook(
        &admin,
        json!({ "url": url, "events": ["review.submitted"] }),
    )
    .await;
    let rotated = json_of(
        admin
            .post(&format!("/api/webhooks/{hook}/rotate-secret"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let second = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert!(rotated["previousSecretUntil"].is_string());
    // Receivers that still hold the old secret verify too, for a day.
    *receiver.secret.lock().unwrap() = Some(first.clone());
    submitted(&dev, "Hooked", json!({})).await;
    eventually("the delivery", || async {
        !receiver.seen.lock().unwrap().is_empty()
    })
    .await;
    *receiver.secret.lock().unwrap() = Some(second.clone());
    let d = admin
        .get_json(&format!("/api/webhooks/{hook}/deliveries"))
        .await;
    let delivery = d["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(d["items"][0]["event"], "review.submitted");
    let r = admin
        .post(&format!(
            "/api/webhooks/{hook}/deliveries/{delivery}/redeliver"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    eventually("the redelivery", || async {
        receiver.seen.lock().unwrap().len() == 2
    })
    .await;
    let seen = receiver.seen.lock().unwrap().clone();
    assert!(seen.iter().all(|s| s.3), "both secrets verify: {seen:?}");
    assert_eq!(seen[0].0, seen[1].0, "a redelivery keeps the webhook-id");

    // Disabled: nothing more is sent; deleted: gone with its deliveries.
    let off = json_of(
        admin
            .patch(&format!("/api/webhooks/{hook}"))
            .json(&json!({ "enabled": false }))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(off["enabled"], false);
    assert_eq!(
        admin
            .delete(&format!("/api/webhooks/{hook}"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    let (status, _, _) = error_of(
        admin
            .get(&format!("/api/webhooks/{hook}/deliveries"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_receiver_that_is_down_and_a_restart_lose_nothing() {
    let app = spawn().await;
    let admin = app.admin().await;
    let dev = user(&app, &admin, "dev", &["developer"]).await;
    // A port nobody listens on yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (hook, secret) = create_hook(
        &admin,
        json!({ "url": format!("http://127.0.0.1:{port}/hook") }),
    )
    .await;
    submitted(&dev, "Patient", json!({})).await;
    eventually("a failed attempt", || async {
        let d = admin
            .get_json(&format!("/api/webhooks/{hook}/deliveries"))
            .await;
        d["items"][0]["attempts"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    })
    .await;
    let d = admin
        .get_json(&format!("/api/webhooks/{hook}/deliveries"))
        .await;
    assert_eq!(d["items"][0]["status"], "pending", "{d}");
    assert_eq!(d["items"][0]["attempts"][0]["error"], "could not connect");
    assert!(d["items"][0]["nextAttemptAt"].is_string());

    // The server restarts; then the receiver comes up: the event still arrives, verified.
    let app = restart(app).await;
    let (_, receiver) = start_receiver_on(port, 0).await;
    *receiver.secret.lock().unwrap() = Some(secret);
    let admin = app.admin().await;
    eventually("the delivery after the restart", || async {
        admin
            .get_json(&format!("/api/webhooks/{hook}/deliveries"))
            .await["items"][0]["status"]
            == "delivered"
    })
    .await;
    let seen = receiver.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].3, "verified");
    assert_eq!(seen[0].1, "review.submitted");
}

#[tokio::test]
async fn replicas_send_each_delivery_once() {
    let app = spawn().await;
    let replica = spawn_replica(&app).await;
    let admin = app.admin().await;
    let dev = user(&app, &admin, "dev", &["developer"]).await;
    let rev = user(&replica, &admin, "rev", &["reviewer"]).await;
    let (url, receiver) = start_receiver(0).await;
    let (hook, secret) = create_hook(&admin, json!({ "url": url })).await;
    *receiver.secret.lock().unwrap() = Some(secret);
    // Events raised on both replicas: a submission on one, comments on the other.
    let (_, rid) = submitted(&dev, "Busy", json!({})).await;
    for i in 0..8 {
        let r = rev
            .post(&format!("/api/reviews/{rid}/comments"))
            .json(&json!({ "body": format!("note {i}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    eventually("nine deliveries", || async {
        let d = admin
            .get_json(&format!("/api/webhooks/{hook}/deliveries"))
            .await;
        let items = d["items"].as_array().unwrap().clone();
        items.len() == 9 && items.iter().all(|i| i["status"] == "delivered")
    })
    .await;
    let seen = receiver.seen.lock().unwrap().clone();
    let ids: std::collections::BTreeSet<&str> = seen.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(seen.len(), 9, "each event once: {seen:?}");
    assert_eq!(ids.len(), 9);
    assert!(seen.iter().all(|s| s.3));
}

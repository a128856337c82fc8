//! Model operations over real HTTP: fallback chains with the circuit breaker, prices
//! and costs, budgets, the usage report and page, and the evaluation bench.

use crate::harness::{Session, audit_entries, error_of, json_of, spawn, spawn_with};
use llm::Protocol;
use llm::testing::{FakeLlm, Reply};
use reqwest::StatusCode;
use serde_json::{Value, json};

const VALID: &str = r#"{"dsl":"modgate.patch/v1","title":"Loyalty","operations":[
  {"scope":"object","op":"add","target":{"object":"Customer","field":"loyaltyPoints"},"value":{"type":"integer","label":"Loyalty points","min":0}}]}"#;

fn down(status: u16) -> Reply {
    Reply::Status {
        status,
        message: "upstream is down".into(),
        retry_after: None,
    }
}

/// A Kimi model on a fake server, without retries so a failure shows at once.
async fn kimi(admin: &Session, name: &str, fake: &FakeLlm) -> String {
    let body = json!({ "name": name, "provider": "kimi", "baseUrl": fake.base_url(Protocol::OpenAi),
        "apiKey": "sk-ops-test-0000000000000000", "params": { "retries": 0, "timeoutMs": 5000 } });
    let v = json_of(
        admin.post("/api/models").json(&body).send().await.unwrap(),
        StatusCode::CREATED,
    )
    .await;
    v["id"].as_str().unwrap().to_owned()
}

async fn module(admin: &Session, model: &str) -> String {
    let body = json!({ "name": "Loyalty", "description": "points", "modelId": model });
    let v = json_of(
        admin.post("/api/modules").json(&body).send().await.unwrap(),
        StatusCode::CREATED,
    )
    .await;
    v["id"].as_str().unwrap().to_owned()
}

async fn generate(admin: &Session, module: &str) -> reqwest::Response {
    admin
        .post(&format!("/api/modules/{module}/generate"))
        .json(&json!({ "prompt": "add loyalty points to customers" }))
        .send()
        .await
        .unwrap()
}

async fn falls_back_to(admin: &Session, model: &str, fallbacks: &[&str]) {
    let r = admin
        .patch(&format!("/api/models/{model}"))
        .json(&json!({ "fallbackModelIds": fallbacks }))
        .send()
        .await
        .unwrap();
    json_of(r, StatusCode::OK).await;
}

/// "Kimi" on a fake answering `first`, falling back to "Kimi backup" on a fake
/// answering `second`, and a module that uses Kimi.
struct Chain {
    primary_fake: FakeLlm,
    backup_fake: FakeLlm,
    primary: String,
    backup: String,
    module: String,
}

async fn chain(admin: &Session, first: Reply, second: Reply) -> Chain {
    let (primary_fake, backup_fake) = (FakeLlm::start().await, FakeLlm::start().await);
    primary_fake.always(first);
    backup_fake.always(second);
    let primary = kimi(admin, "Kimi", &primary_fake).await;
    let backup = kimi(admin, "Kimi backup", &backup_fake).await;
    falls_back_to(admin, &primary, &[&backup]).await;
    let module = module(admin, &primary).await;
    Chain {
        primary_fake,
        backup_fake,
        primary,
        backup,
        module,
    }
}

#[tokio::test]
async fn a_provider_answering_503_hands_the_attempt_to_the_fallback_and_the_audit_says_so() {
    let app = spawn().await;
    let admin = app.admin().await;
    let Chain {
        primary_fake,
        primary,
        backup,
        module: id,
        ..
    } = chain(&admin, down(503), Reply::Text(VALID.into())).await;
    let m = admin.get_json(&format!("/api/models/{primary}")).await;
    assert_eq!(m["fallbackModelIds"], json!([backup]));

    // Streamed: the page sees the hand-over as it happens.
    let resp = admin
        .post(&format!("/api/modules/{id}/generate"))
        .header("accept", "text/event-stream")
        .json(&json!({ "prompt": "add loyalty points to customers" }))
        .send()
        .await
        .unwrap();
    let stream = resp.text().await.unwrap();
    assert!(stream.contains("event: fallback"), "{stream}");
    assert!(
        stream.contains(r#""from":"Kimi","to":"Kimi backup""#),
        "{stream}"
    );
    assert!(stream.contains("event: done"), "{stream}");

    let g = json_of(generate(&admin, &id).await, StatusCode::CREATED).await;
    assert_eq!(g["answeredBy"], "Kimi backup");
    assert_eq!(g["fallbacks"], json!(["Kimi"]));
    assert_eq!(
        g["version"]["model"], "Kimi backup",
        "the version names who wrote it"
    );
    assert_eq!(g["version"]["generation"]["answeredBy"], "Kimi backup");
    assert_eq!(g["version"]["generation"]["fallbacks"], json!(["Kimi"]));
    assert_eq!(
        primary_fake.requests().len(),
        2,
        "one call per generation, no retries"
    );

    let entries = audit_entries(&admin, "ai.generate").await;
    let failed: Vec<&Value> = entries
        .iter()
        .filter(|e| e["details"]["outcome"] == "error")
        .collect();
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[0]["details"]["model"], "Kimi");
    assert_eq!(failed[0]["details"]["error"]["kind"], "provider");
    assert_eq!(failed[0]["details"]["error"]["status"], 503);
    assert_eq!(failed[0]["details"]["fallback"], true);
    let answered = entries
        .iter()
        .find(|e| e["details"]["outcome"] == "valid")
        .unwrap();
    assert_eq!(answered["details"]["model"], "Kimi backup");
    assert_eq!(answered["details"]["fallbackFrom"], json!(["Kimi"]));

    // A model others fall back to cannot be deleted from under them.
    let (status, code, body) = error_of(
        admin
            .delete(&format!("/api/models/{backup}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "conflict"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("fallback of 'Kimi'"),
        "{body}"
    );
}

#[tokio::test]
async fn a_wrong_key_never_falls_back() {
    let app = spawn().await;
    let admin = app.admin().await;
    let Chain {
        backup_fake,
        primary,
        backup,
        module: id,
        ..
    } = chain(&admin, down(401), Reply::Text(VALID.into())).await;
    let (status, code, _) = error_of(generate(&admin, &id).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_GATEWAY, "model_error")
    );
    assert!(
        backup_fake.requests().is_empty(),
        "the backup was not asked"
    );

    // Fallbacks are checked: unknown ids, itself, twice.
    for (ids, says) in [
        (json!(["no-such-model"]), "no model with id"),
        (json!([primary]), "itself"),
        (json!([backup, backup]), "twice"),
    ] {
        let r = admin
            .patch(&format!("/api/models/{primary}"))
            .json(&json!({ "fallbackModelIds": ids }))
            .send()
            .await
            .unwrap();
        let (status, _, body) = error_of(r).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.to_string().contains(says), "{body}");
    }
}

#[tokio::test]
async fn the_circuit_opens_after_repeated_failures_and_the_models_page_shows_it() {
    let app = spawn_with(|c| c.ai_breaker_failures = 2).await;
    let admin = app.admin().await;
    let Chain {
        primary_fake,
        primary,
        module: id,
        ..
    } = chain(&admin, down(502), Reply::Text(VALID.into())).await;
    for _ in 0..2 {
        json_of(generate(&admin, &id).await, StatusCode::CREATED).await;
    }
    let m = admin.get_json(&format!("/api/models/{primary}")).await;
    assert_eq!(m["circuit"]["state"], "open", "{m}");
    assert!(m["circuit"]["retryInSecs"].as_u64().unwrap() > 0);
    // While open, the primary is skipped: no third call to it.
    let g = json_of(generate(&admin, &id).await, StatusCode::CREATED).await;
    assert_eq!(g["answeredBy"], "Kimi backup");
    assert_eq!(primary_fake.requests().len(), 2);
    let page = admin.get_text("/admin/ai-models").await;
    assert!(
        page.contains("circuit-open"),
        "the models page shows the paused model"
    );
}

#[tokio::test]
async fn calls_cost_what_their_prices_say_and_a_spent_budget_refuses_generation() {
    let app = spawn().await;
    let admin = app.admin().await;
    let fake = FakeLlm::start().await;
    fake.always(Reply::Text(VALID.into()));
    let model = kimi(&admin, "Kimi", &fake).await;
    let m = admin.get_json(&format!("/api/models/{model}")).await;
    assert_eq!(
        m["prices"],
        json!({"input": 0.95, "cachedInput": 0.16, "output": 4.0, "currency": "USD"}),
        "list prices are pre-filled"
    );
    let id = module(&admin, &model).await;

    let g = json_of(generate(&admin, &id).await, StatusCode::CREATED).await;
    // The fake counts 11 input tokens and one per word of the answer.
    let words = VALID.split_whitespace().count() as f64;
    let micros = (11.0 * 0.95 + words * 4.0).round();
    assert_eq!(g["cost"]["USD"].as_f64().unwrap(), micros / 1e6);
    assert_eq!(
        g["version"]["generation"]["cost"]["USD"].as_f64().unwrap(),
        micros / 1e6
    );
    let audit = audit_entries(&admin, "ai.generate").await;
    assert_eq!(
        audit[0]["details"]["cost"]["USD"].as_f64().unwrap(),
        micros / 1e6,
        "the audit row keeps the cost"
    );
    let used = g["inputTokens"].as_i64().unwrap() + g["outputTokens"].as_i64().unwrap();

    // Prices are editable; bad ones are refused field by field.
    let r = admin
        .patch(&format!("/api/models/{model}"))
        .json(&json!({ "prices": { "input": -1, "output": 2, "currency": "dollars" } }))
        .send()
        .await
        .unwrap();
    let (status, _, body) = error_of(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = body["error"]["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["prices.input", "prices.currency"]);

    // Bad budgets change nothing.
    for (b, field) in [
        (json!({ "period": "month" }), "limitTokens"),
        (json!({ "period": "week", "limitTokens": 5 }), "period"),
        (
            json!({ "period": "month", "limitTokens": 5, "modelId": "nope" }),
            "modelId",
        ),
        (json!({ "period": "month", "limitCost": 0.0 }), "limitCost"),
    ] {
        let (status, _, body) =
            error_of(admin.post("/api/budgets").json(&b).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(body.to_string().contains(field), "{body}");
    }
    assert_eq!(admin.get_json("/api/budgets").await["items"], json!([]));

    // A budget the month has already spent refuses the next generation, naming it.
    let b = json_of(
        admin
            .post("/api/budgets")
            .json(&json!({ "modelId": model, "period": "month", "limitTokens": used }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(b["state"], "exhausted");
    assert_eq!(b["spentTokens"], used);
    let before = admin.get_json(&format!("/api/modules/{id}/versions")).await["items"]
        .as_array()
        .unwrap()
        .len();
    let (status, code, body) = error_of(generate(&admin, &id).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "budget_exhausted")
    );
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("the monthly budget for Kimi")
            && msg.contains(&format!("{used} of {used} tokens")),
        "{msg}"
    );
    let after = admin.get_json(&format!("/api/modules/{id}/versions")).await["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after, "nothing was saved");
    assert_eq!(fake.requests().len(), 1, "nothing was sent");

    // Raised, it lets generation through; at 80% and more the admins hear of it.
    let bid = b["id"].as_str().unwrap();
    let b = json_of(
        admin
            .patch(&format!("/api/budgets/{bid}"))
            .json(&json!({ "limitTokens": used * 2 + used / 2 }))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(b["state"], "ok");
    json_of(generate(&admin, &id).await, StatusCode::CREATED).await;
    let notes = admin.get_json("/api/notifications").await;
    let warning = notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["event"] == "budget.warning")
        .unwrap_or_else(|| panic!("no budget warning in {notes}"));
    assert!(
        warning["summary"]
            .as_str()
            .unwrap()
            .contains("the monthly budget for Kimi is at 80%"),
        "{warning}"
    );
    assert_eq!(warning["link"], "/admin/ai-usage");
    json_of(generate(&admin, &id).await, StatusCode::CREATED).await;
    let count = admin.get_json("/api/notifications").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["event"] == "budget.warning")
        .count();
    assert_eq!(count, 1, "one warning per budget per month");

    assert_eq!(
        admin
            .delete(&format!("/api/budgets/{bid}"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        admin
            .delete(&format!("/api/budgets/{bid}"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_usage_report_and_page_show_the_months_tokens_and_cost() {
    let app = spawn().await;
    let admin = app.admin().await;
    let fake = FakeLlm::start().await;
    fake.always(Reply::Text(VALID.into()));
    let model = kimi(&admin, "Kimi", &fake).await;
    let id = module(&admin, &model).await;
    let g = json_of(generate(&admin, &id).await, StatusCode::CREATED).await;
    let tokens = g["inputTokens"].as_i64().unwrap() + g["outputTokens"].as_i64().unwrap();

    let r = admin.get_json("/api/usage?groupBy=model").await;
    assert_eq!(r["rows"][0]["label"], "Kimi");
    assert_eq!(r["rows"][0]["calls"], 1);
    assert_eq!(
        r["total"]["tokensIn"].as_i64().unwrap() + r["total"]["tokensOut"].as_i64().unwrap(),
        tokens
    );
    assert_eq!(r["total"]["cost"]["USD"], g["cost"]["USD"]);
    let by_module = admin.get_json("/api/usage?groupBy=module").await;
    assert_eq!(by_module["rows"][0]["label"], "Loyalty");
    let by_day = admin.get_json("/api/usage?groupBy=day").await;
    assert_eq!(by_day["rows"].as_array().unwrap().len(), 1);
    assert_eq!(by_day["rows"][0]["key"], app::time::day_of(store::now_ms()));
    let by_user = admin.get_json("/api/usage?groupBy=user").await;
    assert_eq!(by_user["rows"][0]["key"], "admin");

    for bad in [
        "groupBy=team",
        "from=2026-13-01",
        "from=2026-12-05&to=2026-12-01",
        "from=2020-01-01&to=2026-01-01",
    ] {
        let (status, _, _) = error_of(
            admin
                .get(&format!("/api/usage?{bad}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }

    let page = admin.get_text("/admin/ai-usage").await;
    assert!(page.contains(r#"id="usage-chart""#), "the chart is drawn");
    assert!(page.contains(r#"class="usage-bar""#));
    assert!(
        page.contains(r#"text-anchor="end""#),
        "the axis has its ticks"
    );
    assert!(
        page.contains(&format!(r#"<strong id="total-tokens">{tokens}</strong>"#)),
        "the month's tokens"
    );
    let cost = llm::price::format_micros((g["cost"]["USD"].as_f64().unwrap() * 1e6).round() as i64);
    assert!(
        page.contains(&format!("{cost} USD")),
        "the month's cost {cost}"
    );
    let ws = admin
        .get_text(&format!("/admin/ai-modules/develop/{id}"))
        .await;
    assert!(
        ws.contains(r#"id="module-cost""#) && ws.contains(&format!("{cost} USD")),
        "the workspace shows the cost"
    );

    // The budget form on the page: a mistake is shown on the form, a budget is added.
    let r = admin
        .post("/admin/ai-usage/budgets")
        .form(&[
            ("_csrf", admin.csrf.as_str()),
            ("model_id", ""),
            ("limit_tokens", "lots"),
            ("limit_cost", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("&#x27;lots&#x27; is not a number")
    );
    let r = admin
        .post("/admin/ai-usage/budgets")
        .form(&[
            ("_csrf", admin.csrf.as_str()),
            ("model_id", ""),
            ("limit_tokens", "1000000"),
            ("limit_cost", "5"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success() || r.status().is_redirection());
    let b = admin.get_json("/api/budgets").await;
    assert_eq!(b["items"][0]["scope"], "all models");
    assert_eq!(b["items"][0]["limitCost"], 5.0);
}

#[tokio::test]
async fn the_offline_engine_is_evaluated_on_the_shipped_corpus_and_shown_beside_others() {
    let app = spawn().await;
    let admin = app.admin().await;
    let models = admin.get_json("/api/models").await;
    let builtin = models["items"][0]["id"].as_str().unwrap().to_owned();
    let run = json_of(
        admin
            .post(&format!("/api/models/{builtin}/eval"))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let s = &run["summary"];
    let requests = s["requests"].as_u64().unwrap();
    assert!(requests >= 60);
    assert_eq!(
        s["accepted"].as_u64().unwrap()
            + s["validNotAccepted"].as_u64().unwrap()
            + s["failed"].as_u64().unwrap(),
        requests
    );
    assert!(
        s["accepted"].as_u64().unwrap() * 2 > requests,
        "the offline engine passes most: {s}"
    );
    assert_eq!(run["results"].as_array().unwrap().len() as u64, requests);

    // A corpus of one's own, against a fake model: accepted, valid but not accepted.
    let fake = FakeLlm::start().await;
    fake.always(Reply::Text(VALID.into()));
    let kimi_id = kimi(&admin, "Kimi", &fake).await;
    let corpus = "name: mine\ncases:\n  - id: points\n    request: add loyalty points\n    expect:\n      operations:\n        - {scope: object, op: add, target: {field: loyaltyPoints}, value: {type: integer}}\n  - id: vip\n    request: add a vip flag\n    expect:\n      operations:\n        - {scope: object, target: {field: vip}}\n";
    let run = json_of(
        admin
            .post(&format!("/api/models/{kimi_id}/eval"))
            .json(&json!({ "corpus": corpus }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let outcomes: Vec<&str> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, vec!["accepted", "valid_not_accepted"]);
    assert!(
        run["results"][1]["detail"]
            .as_str()
            .unwrap()
            .contains("missing")
    );
    assert!(run["summary"]["cost"]["USD"].as_f64().unwrap() > 0.0);
    let kimi_calls = audit_entries(&admin, "ai.eval")
        .await
        .into_iter()
        .filter(|e| e["details"]["model"] == "Kimi")
        .count();
    assert_eq!(kimi_calls, 2, "every call of the bench is audited");

    let (status, _, body) = error_of(
        admin
            .post(&format!("/api/models/{kimi_id}/eval"))
            .json(&json!({ "corpus": "cases: []" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.to_string().contains("no cases"), "{body}");

    let latest = admin.get_json("/api/models/evals").await;
    assert_eq!(
        latest["items"].as_array().unwrap().len(),
        2,
        "one line per model"
    );
    let page = admin.get_text("/admin/ai-models").await;
    assert!(
        page.contains(r#"id="evals""#)
            && page.contains(r#"data-model="Kimi""#)
            && page.contains(r#"data-model="Built-in (offline)""#)
    );
    let detail = admin
        .get_text(&format!(
            "/admin/ai-models/evals/{}",
            run["id"].as_str().unwrap()
        ))
        .await;
    assert!(detail.contains("outcome-valid_not_accepted"));
}

#[tokio::test]
async fn a_budget_spent_during_an_evaluation_ends_it_and_the_rest_is_not_run() {
    let app = spawn().await;
    let admin = app.admin().await;
    let builtin = admin.get_json("/api/models").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    json_of(
        admin
            .post("/api/budgets")
            .json(&json!({ "modelId": builtin, "period": "month", "limitTokens": 1000 }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let run = json_of(
        admin
            .post(&format!("/api/models/{builtin}/eval"))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let results = run["results"].as_array().unwrap();
    let ran = results
        .iter()
        .filter(|r| r["attempts"].as_u64().unwrap() > 0)
        .count();
    let not_run: Vec<&Value> = results
        .iter()
        .filter(|r| {
            r["detail"]
                .as_str()
                .unwrap()
                .starts_with("not run: the monthly budget for Built-in (offline) is spent")
        })
        .collect();
    assert!(
        ran > 0 && !not_run.is_empty(),
        "ran {ran}, not run {}",
        not_run.len()
    );
    assert_eq!(
        ran + not_run.len(),
        results.len(),
        "once spent, nothing more is sent"
    );
    // And the next run is refused before it starts.
    let (status, code, _) = error_of(
        admin
            .post(&format!("/api/models/{builtin}/eval"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "budget_exhausted")
    );
}

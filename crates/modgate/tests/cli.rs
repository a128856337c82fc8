//! The command line as scripts and people use it: real processes, real databases.

mod common;

use common::{Env, text};
use std::process::{Command, Stdio};

#[tokio::test]
async fn user_add_then_audit_verify_catches_tampering() {
    let env = Env::new().await;
    let out = env.run(&["migrate"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = env.run(
        &[
            "user",
            "add",
            "--username",
            "Ops",
            "--role",
            "developer",
            "--role",
            "reviewer",
            "--password-stdin",
        ],
        Some("ops-password\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("created user ops"));
    assert!(!text(&out.stdout).contains("ops-password"));

    let out = env.run(
        &["user", "add", "--username", "gen", "--role", "publisher"],
        None,
    );
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("password: "),
        "a generated password is printed once"
    );

    let out = env.run(
        &[
            "user",
            "add",
            "--username",
            "ops",
            "--role",
            "developer",
            "--password-stdin",
        ],
        Some("ops-password\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("already exists"));

    let out = env.run(&["user", "add", "--username", "x2", "--role", "root"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("'root'"),
        "{}",
        text(&out.stderr)
    );

    let out = env.run(&["audit", "verify"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("intact"));

    // Someone with database access rewrites history.
    let url = if env.db.url.starts_with("postgres") {
        env.db.url.clone()
    } else {
        format!("sqlite:{}", env.dir.path().join("modgate.db").display())
    };
    let db = store::Db::connect(&url).await.unwrap();
    store::testing::lift_audit_guard(&db).await.unwrap();
    store::testing::exec(&db, "UPDATE audit_logs SET details = '{}' WHERE seq = 2")
        .await
        .unwrap();
    db.close().await;
    let out = env.run(&["audit", "verify"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("row 2"), "{}", text(&out.stdout));
}

#[tokio::test]
async fn serve_seeds_an_admin_prints_the_password_once_and_stops_on_sigterm() {
    let env = Env::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = env
        .cmd(&["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..100 {
        if reqwest::get(format!("{base}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "the server answers /readyz");
    // SIGTERM: graceful shutdown.
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "clean exit: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let password = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("password: "))
        .expect("password printed")
        .to_owned();
    assert!(password.len() >= 16);
    assert!(
        !text(&out.stderr).contains(&password),
        "the password is not in the log"
    );
    if !env.db.url.starts_with("postgres") {
        let key = env.dir.path().join("secret.key");
        assert!(
            key.exists(),
            "the instance secret is generated in the data dir"
        );
    }

    // Second start: no new admin, no password.
    let child = env
        .cmd(&["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if reqwest::get(format!("{base}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let login = reqwest::Client::new()
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({ "username": "admin", "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200, "the printed password works");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!text(&out.stdout).contains("password:"));
}

#[tokio::test]
async fn bad_config_stops_start_up_naming_the_key() {
    let env = Env::new().await;
    let out = env
        .cmd(&["serve"])
        .env("MODGATE_SESSION_TTL_HOURS", "soon")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("MODGATE_SESSION_TTL_HOURS"),
        "{}",
        text(&out.stderr)
    );
    let cfg = env.dir.path().join("modgate.toml");
    std::fs::write(&cfg, "bind = 8080\n").unwrap();
    let out = env
        .cmd(&["--config", cfg.to_str().unwrap(), "migrate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("bind"), "{}", text(&out.stderr));
}

#[tokio::test]
async fn module_generate_goes_through_the_gateway() {
    let env = Env::new().await;
    let out = env.run(&["migrate"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let url = if env.db.url.starts_with("postgres") {
        env.db.url.clone()
    } else {
        format!("sqlite:{}", env.dir.path().join("modgate.db").display())
    };
    let db = store::Db::connect(&url).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    store::modules::insert(
        &mut tx,
        &store::modules::Module {
            id: store::new_id(),
            name: "Loyalty".into(),
            slug: "loyalty".into(),
            description: String::new(),
            status: store::ModuleStatus::Draft,
            model_id: None,
            owner: "admin".into(),
            current_version: 0,
            created_at: 0,
            updated_at: 0,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    db.close().await;

    let out = env.run(
        &[
            "module",
            "generate",
            "loyalty",
            "add an integer field loyaltyPoints to Customer",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"]["number"], 1);
    assert_eq!(v["version"]["author"], "admin");
    assert!(
        text(&out.stderr).contains("valid L1"),
        "{}",
        text(&out.stderr)
    );

    // A signed bundle of it; importing needs the signer's key to be trusted here.
    let file = env.dir.path().join("loyalty.bundle.json");
    let out = env.run(
        &[
            "module",
            "export",
            "loyalty",
            "--version",
            "1",
            "-o",
            file.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bundle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(bundle["format"], "modgate.bundle/v1");
    let out = env.run(&["module", "import", file.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("does not trust"),
        "{}",
        text(&out.stderr)
    );

    // The same permission rule as the API: a reviewer may not develop modules.
    let out = env.run(
        &["user", "add", "--username", "rev", "--role", "reviewer"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = env.run(
        &[
            "module",
            "generate",
            "loyalty",
            "add a date field since to Customer",
            "--as",
            "rev",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("modules.develop"),
        "{}",
        text(&out.stderr)
    );

    let out = env.run(&["module", "generate", "loyalty", "make it nicer"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("did not understand"));
    let out = env.run(
        &[
            "module",
            "generate",
            "nope",
            "add a date field x to Customer",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn spec_verify_names_how_the_stored_live_spec_differs() {
    let env = Env::new().await;
    let out = env.run(&["spec", "verify"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("no live spec is stored yet"));

    // Any command that opens the application records the first live spec.
    let out = env.run(&["seed-demo", "--customers", "0"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = env.run(&["spec", "verify"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("(version 1) is what the base CRM"));

    let url = if env.db.url.starts_with("postgres") {
        env.db.url.clone()
    } else {
        format!("sqlite:{}", env.dir.path().join("modgate.db").display())
    };
    let db = store::Db::connect(&url).await.unwrap();
    let mut changed = spec::base_spec();
    // As an earlier release's base CRM: no tracking events, orders not numbered.
    changed
        .objects
        .get_mut("Order")
        .unwrap()
        .fields
        .get_mut("number")
        .unwrap()
        .auto_number = None;
    changed.objects.remove("OrderTracking");
    changed.pages.retain(|_, p| p.object() != "OrderTracking");
    for group in &mut changed.menus {
        group.children.retain(|c| {
            c.page
                .as_deref()
                .is_none_or(|p| changed.pages.contains_key(p))
        });
    }
    store::spec_versions::record(&db, &changed.to_pretty_json(), "by hand")
        .await
        .unwrap();
    db.close().await;
    let out = env.run(&["spec", "verify"], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let said = text(&out.stdout);
    assert!(said.contains("(version 2) differs"), "{said}");
    assert!(
        said.contains("object 'OrderTracking' is only in the composed spec"),
        "{said}"
    );

    // Orders written under it have no number; the deliberate upgrade numbers them.
    let out = env.run(
        &[
            "seed-demo",
            "--customers",
            "2",
            "--orders-per-customer",
            "2",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = env.run(&["spec", "upgrade"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("now version 3 (was 2)"),
        "{}",
        text(&out.stdout)
    );
    let out = env.run(&["spec", "verify"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = env.run(&["spec", "upgrade"], None);
    assert!(text(&out.stdout).contains("already what this release composes to"));
    let db = store::Db::connect(&url).await.unwrap();
    let q = runtime::ListQuery {
        limit: 100,
        ..Default::default()
    };
    let (orders, _) = runtime::RecordStore::list(&db, "Order", &q).await.unwrap();
    let mut numbers: Vec<String> = orders
        .iter()
        .map(|o| o.data["number"].as_str().unwrap_or("none").to_owned())
        .collect();
    numbers.sort();
    assert_eq!(
        numbers,
        ["SO-000001", "SO-000002", "SO-000003", "SO-000004"]
    );
    let filter = store::audit::Filter {
        action: Some("spec.upgrade".into()),
        ..Default::default()
    };
    let (_, upgrades) = store::audit::list(&db, &filter, 0, 10).await.unwrap();
    db.close().await;
    assert_eq!(upgrades, 1, "audited once; the no-op is not");
}

#[tokio::test]
async fn eval_prints_the_offline_engines_table_and_refuses_a_bad_corpus() {
    let env = Env::new().await;
    let out = env.run(&["eval", "--model", "builtin"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        table.contains("field-integer") && table.contains("zh-field-integer"),
        "{table}"
    );
    let totals = table
        .lines()
        .find(|l| l.starts_with("accepted "))
        .expect("a totals line");
    assert!(totals.contains("/69"), "{totals}");
    assert!(table.contains("latency p50"), "{table}");

    let out = env.run(&["eval", "--model", "builtin", "--json"], None);
    assert!(out.status.success());
    let run: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(run["modelName"], "Built-in (offline)");
    assert_eq!(run["summary"]["requests"], 69);

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "cases:\n  - {id: a, request: x}\n").unwrap();
    let out = env.run(
        &[
            "eval",
            "--model",
            "builtin",
            "--corpus",
            bad.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("expect needs"),
        "{}",
        text(&out.stderr)
    );
    let out = env.run(&["eval", "--model", "gpt-9"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("Built-in (offline)"),
        "names the models there are"
    );
}

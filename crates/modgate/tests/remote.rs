//! `modgate remote` against a real server process: the pipeline script of docs/ci.md
//! from a request to production with two people, and the exit codes a pipeline relies
//! on (0 done, 1 refused with the reasons, 2 usage, network or server error).

mod common;

use common::{Api, Env, Running, drained, free_port, text, wait_ready};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const ADMIN_PASSWORD: &str = "remote-test-admin-password";

struct Server {
    base: String,
    running: Option<Running>,
}

impl Server {
    async fn start(env: &Env, gate: &str) -> Server {
        let port = free_port();
        let child = env
            .cmd(&["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("MODGATE_TEST_GATE", gate)
            .env("MODGATE_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env(
                "MODGATE_SECRET_KEY",
                "remote-test-instance-secret-0123456789",
            )
            .env("MODGATE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let running = drained(child);
        wait_ready(&base).await;
        Server {
            base,
            running: Some(running),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            let (_, err) = r.stop();
            assert!(!err.contains("panicked"), "the server panicked: {err}");
        }
    }
}

/// A POST that must succeed; its answer.
async fn posted(s: &Api, path: &str, body: Value) -> Value {
    let (status, answer) = s.post(path, body).await;
    assert!((200..300).contains(&status), "{path}: {status} {answer}");
    answer
}

/// A user with the given platform roles and a personal API token; (session, token).
async fn person(server: &Server, admin: &Api, name: &str, roles: &[&str]) -> (Api, String) {
    let password = format!("{name}-password-long");
    posted(
        admin,
        "/api/users",
        json!({ "username": name, "password": password, "roles": roles }),
    )
    .await;
    let s = Api::login(&server.base, name, &password).await;
    let t = posted(&s, "/api/tokens", json!({ "name": "ci" })).await;
    let token = t["secret"].as_str().unwrap().to_owned();
    (s, token)
}

fn remote(base: &str, token: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_modgate"))
        .arg("remote")
        .args(args)
        .env("MODGATE_URL", base)
        .env("MODGATE_TOKEN", token)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/patches")
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/ci-pipeline.sh")
}

#[tokio::test]
async fn the_pipeline_script_takes_a_module_from_request_to_production_with_two_people() {
    let env = Env::new().await;
    // The default coverage gate: the generated version's own scenarios must meet it.
    let server = Server::start(&env, "0.8").await;
    let admin = Api::login(&server.base, "admin", ADMIN_PASSWORD).await;
    // The author may review too: four-eyes still keeps them from approving their own
    // work.
    let (_, author) = person(
        &server,
        &admin,
        "ci-author",
        &["developer", "reviewer", "publisher"],
    )
    .await;
    let (_, reviewer) = person(&server, &admin, "ci-reviewer", &["reviewer"]).await;
    let out = tempfile::tempdir().unwrap();

    let run = Command::new("bash")
        .arg(script())
        .env("MODGATE", env!("CARGO_BIN_EXE_modgate"))
        .env("MODGATE_URL", &server.base)
        .env("DEV_TOKEN", &author)
        .env("REVIEWER_TOKEN", &reviewer)
        .env("MODULE", "Visit tracking")
        .env(
            "PROMPT",
            "add an integer field visits to Customer with min 0",
        )
        .env("OUT", out.path())
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&run.stdout), text(&run.stderr));
    assert!(run.status.success(), "{stdout}\n{stderr}");

    // Each step said what it did; the author's own approval was refused as four-eyes.
    for said in [
        "created module Visit tracking",
        "saved version 1 of Visit tracking",
        "tested version 1 of Visit tracking: passed",
        "ready for review",
        "submitted version 1 of Visit tracking for review",
        "approved version 1 of Visit tracking",
        "published Visit tracking version 1 (release ",
        "live:     version 1",
    ] {
        assert!(stdout.contains(said), "'{said}' missing from:\n{stdout}");
    }
    assert!(stderr.contains("four_eyes"), "{stderr}");
    let junit = std::fs::read_to_string(out.path().join("modgate-junit.xml")).unwrap();
    assert!(junit.contains("<testsuite") && junit.contains("failures=\"0\""));

    // The server agrees: published, the field is live, the reviewer decided.
    let modules = admin.get("/api/modules").await;
    let m = &modules["items"][0];
    assert_eq!(m["name"], "Visit tracking");
    assert_eq!(m["publication"]["status"], "published");
    let id = m["id"].as_str().unwrap();
    let reviews = admin.get(&format!("/api/modules/{id}/reviews")).await;
    assert_eq!(reviews["items"][0]["status"], "approved");
    assert_eq!(reviews["items"][0]["decidedBy"], "ci-reviewer");
    assert_eq!(reviews["items"][0]["submittedBy"], "ci-author");
    let spec = remote(&server.base, &reviewer, &["spec", "show"]);
    assert_eq!(code(&spec), 0, "{}", text(&spec.stderr));
    let spec: Value = serde_json::from_slice(&spec.stdout).unwrap();
    assert!(spec["objects"]["Customer"]["fields"]["visits"].is_object());

    // Down (下架) and up again by rollback, from the command line too.
    let down = remote(
        &server.base,
        &author,
        &["module", "unpublish", "Visit tracking"],
    );
    assert_eq!(code(&down), 0, "{}", text(&down.stderr));
    assert!(text(&down.stdout).starts_with("unpublished Visit tracking version 1"));
    let up = remote(
        &server.base,
        &author,
        &[
            "--json",
            "module",
            "rollback",
            "visit-tracking",
            "--version",
            "1",
        ],
    );
    assert_eq!(code(&up), 0, "{}", text(&up.stderr));
    let up: Value = serde_json::from_slice(&up.stdout).unwrap();
    assert_eq!(up["publication"]["status"], "published");
}

#[tokio::test]
async fn refusals_exit_1_with_their_reasons_and_mistakes_exit_2() {
    let env = Env::new().await;
    // Hand-written patches here come without scenarios: no coverage gate.
    let server = Server::start(&env, "0").await;
    let base = server.base.as_str();
    let admin = Api::login(base, "admin", ADMIN_PASSWORD).await;
    let (_, author) = person(&server, &admin, "author", &["developer", "publisher"]).await;
    let (_, reviewer) = person(&server, &admin, "reviewer", &["reviewer"]).await;

    // Mistakes: no server, no token, a bad token, an unreachable server, no module.
    let none = Command::new(env!("CARGO_BIN_EXE_modgate"))
        .args(["remote", "module", "list"])
        .env_remove("MODGATE_URL")
        .env_remove("MODGATE_TOKEN")
        .output()
        .unwrap();
    assert_eq!(code(&none), 2);
    assert!(text(&none.stderr).contains("MODGATE_URL"));
    let o = remote(base, "", &["module", "list"]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("MODGATE_TOKEN"));
    let o = remote(base, "mg_not_a_token", &["module", "list"]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("401"), "{}", text(&o.stderr));
    // Bound but not listening: refused, and no other test's server can take the port.
    let reserved = tokio::net::TcpSocket::new_v4().unwrap();
    reserved.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let closed = format!("http://127.0.0.1:{}", reserved.local_addr().unwrap().port());
    let o = remote(&closed, &author, &["module", "list"]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("cannot reach"),
        "{}",
        text(&o.stderr)
    );
    let o = remote(base, &author, &["module", "show", "nothing-here"]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("no module with id, slug or name 'nothing-here'"));
    // The token never shows, not even in --help.
    let help = remote(base, &author, &["--help"]);
    assert!(!text(&help.stdout).contains(&author));

    // A hand-written patch, saved from a file.
    let dir = tempfile::tempdir().unwrap();
    let patch = examples().join("object-loyalty-points.json");
    let o = remote(base, &author, &["module", "create", "Tiers"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let o = remote(
        base,
        &author,
        &[
            "module",
            "save",
            "tiers",
            patch.to_str().unwrap(),
            "-m",
            "tiers",
        ],
    );
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("saved version 1 of tiers (L1, valid)"));

    // Refused by the lifecycle: submitting untested (with every reason), deciding with
    // no review open, publishing with no approval.
    let o = remote(base, &author, &["module", "submit", "tiers"]);
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("not ready") && err.contains("409 not_ready"),
        "{err}"
    );
    assert!(err.lines().any(|l| l.starts_with("  - ")), "{err}");
    let o = remote(base, &author, &["module", "approve", "Tiers"]);
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("never been submitted"));
    // A reviewer sees modules under review and published ones only: this one is not
    // found for them.
    let o = remote(base, &reviewer, &["module", "approve", "Tiers"]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("404 not_found"));
    let o = remote(base, &author, &["--json", "module", "publish", "tiers"]);
    assert_eq!(code(&o), 1);
    let body: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(body["error"]["code"], "refused");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no approved version")
    );

    // Tested, submitted, the reviewer (who cannot list modules) finds it by name and
    // rejects it with a reason; a reason is required (a usage error).
    let o = remote(base, &author, &["module", "test", "tiers"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let o = remote(
        base,
        &author,
        &["module", "submit", "tiers", "--reviewer", "reviewer"],
    );
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let o = remote(base, &reviewer, &["module", "reject", "Tiers"]);
    assert_eq!(code(&o), 2);
    let o = remote(
        base,
        &reviewer,
        &["module", "reject", "Tiers", "--reason", "no bronze"],
    );
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("rejected version 1 of Tiers"));

    // An invalid patch is kept as a draft and the command says why, exit 1.
    let patch = examples().join("invalid/unknown-object.json");
    let o = remote(
        base,
        &author,
        &[
            "module",
            "save",
            "tiers",
            patch.to_str().unwrap(),
            "-m",
            "broken",
        ],
    );
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("INVALID"));
    assert!(text(&o.stderr).contains("  - "), "{}", text(&o.stderr));
    // A stale base version is a conflict: refused.
    let o = remote(
        base,
        &author,
        &[
            "module",
            "save",
            "tiers",
            patch.to_str().unwrap(),
            "-m",
            "x",
            "--base",
            "1",
        ],
    );
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));

    // Export, then an import the server refuses: its own key is not in its trusted
    // list, and a changed bundle is tampered either way.
    let bundle = dir.path().join("tiers.bundle.json");
    let o = remote(
        base,
        &author,
        &[
            "module",
            "export",
            "tiers",
            "--version",
            "1",
            "-o",
            bundle.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let b: Value = serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    assert_eq!(b["format"], "modgate.bundle/v1");
    let o = remote(
        base,
        &author,
        &["module", "import", bundle.to_str().unwrap()],
    );
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("untrusted_key"),
        "{}",
        text(&o.stderr)
    );
    let o = remote(
        base,
        &author,
        &["module", "import", patch.to_str().unwrap()],
    );
    assert!(code(&o) >= 1, "{}", text(&o.stderr));
    let junk = dir.path().join("junk");
    std::fs::write(&junk, "not json").unwrap();
    let o = remote(base, &author, &["module", "import", junk.to_str().unwrap()]);
    assert_eq!(code(&o), 2);

    // The list, as text and as JSON.
    let o = remote(base, &author, &["module", "list"]);
    assert_eq!(code(&o), 0);
    let list = text(&o.stdout);
    assert!(
        list.starts_with("MODULE") && list.contains("tiers"),
        "{list}"
    );
    let o = remote(base, &author, &["module", "list", "--json"]);
    let l: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(l["items"][0]["slug"], "tiers");
}

/// Administrator session, and the tokens of an author (developer, publisher) and of a
/// reviewer.
async fn team(server: &Server) -> (Api, String, String) {
    let admin = Api::login(&server.base, "admin", ADMIN_PASSWORD).await;
    let (_, author) = person(server, &admin, "author", &["developer", "publisher"]).await;
    let (_, reviewer) = person(server, &admin, "reviewer", &["reviewer"]).await;
    (admin, author, reviewer)
}

fn ok(o: &Output) -> String {
    assert_eq!(code(o), 0, "{}\n{}", text(&o.stdout), text(&o.stderr));
    text(&o.stdout)
}

#[tokio::test]
async fn a_bundle_travels_between_two_server_processes_and_goes_through_the_lifecycle_there() {
    let (env_a, env_b) = (Env::new().await, Env::new().await);
    let (a, b) = (
        Server::start(&env_a, "0").await,
        Server::start(&env_b, "0").await,
    );
    let ((_, author_a, _), (admin_b, author_b, reviewer_b)) = (team(&a).await, team(&b).await);
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("loyalty.bundle.json");
    let patch = examples().join("object-loyalty-points.json");

    ok(&remote(
        &a.base,
        &author_a,
        &["module", "create", "Loyalty"],
    ));
    let p = patch.to_str().unwrap();
    ok(&remote(
        &a.base,
        &author_a,
        &["module", "save", "Loyalty", p, "-m", "points"],
    ));
    let out = bundle.to_str().unwrap();
    ok(&remote(
        &a.base,
        &author_a,
        &["module", "export", "Loyalty", "-o", out],
    ));

    // B does not trust A yet: refused, nothing stored.
    let o = remote(&b.base, &author_b, &["module", "import", out]);
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("untrusted_key"),
        "{}",
        text(&o.stderr)
    );
    assert!(
        ok(&remote(&b.base, &author_b, &["module", "list", "--json"])).contains("\"items\": []")
    );

    // B's administrator trusts A's key (compared by fingerprint in real life).
    let admin_a = Api::login(&a.base, "admin", ADMIN_PASSWORD).await;
    let key = admin_a.get("/api/instance").await["publicKey"]
        .as_str()
        .unwrap()
        .to_owned();
    posted(
        &admin_b,
        "/api/trusted-keys",
        json!({ "name": "development", "publicKey": key }),
    )
    .await;

    // A changed bundle is tampered; the bundle as signed is imported as a draft.
    let mut changed: Value =
        serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    changed["version"]["message"] = json!("points, and a little more");
    let tampered = dir.path().join("tampered.json");
    std::fs::write(&tampered, changed.to_string()).unwrap();
    let o = remote(
        &b.base,
        &author_b,
        &["module", "import", tampered.to_str().unwrap()],
    );
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("tampered"), "{}", text(&o.stderr));
    let said = ok(&remote(&b.base, &author_b, &["module", "import", out]));
    assert!(
        said.starts_with("imported as a new module: Loyalty version 1"),
        "{said}"
    );

    let shown = ok(&remote(&b.base, &author_b, &["module", "show", "Loyalty"]));
    assert!(shown.contains("import by author"), "{shown}");

    // On B it is a draft like any other: test, submit, review, publish.
    ok(&remote(&b.base, &author_b, &["module", "test", "Loyalty"]));
    ok(&remote(
        &b.base,
        &author_b,
        &["module", "submit", "Loyalty"],
    ));
    ok(&remote(
        &b.base,
        &reviewer_b,
        &["module", "approve", "Loyalty"],
    ));
    let said = ok(&remote(
        &b.base,
        &author_b,
        &["module", "publish", "Loyalty"],
    ));
    assert!(said.starts_with("published Loyalty version 1"), "{said}");
    let spec: Value =
        serde_json::from_str(&ok(&remote(&b.base, &reviewer_b, &["spec", "show"]))).unwrap();
    assert!(spec["objects"]["Customer"]["fields"]["loyaltyPoints"].is_object());
    // A is unchanged: its module is still a draft, its spec without the field.
    let spec_a: Value =
        serde_json::from_str(&ok(&remote(&a.base, &author_a, &["spec", "show"]))).unwrap();
    assert!(spec_a["objects"]["Customer"]["fields"]["loyaltyPoints"].is_null());
}

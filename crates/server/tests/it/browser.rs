//! End to end in headless Chromium through WebDriver: the pages as a person uses them.

use crate::harness::{ADMIN_PASSWORD, spawn};
use std::process::Stdio;
use std::time::Duration;
use thirtyfour::prelude::*;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// A chromedriver child process on a free port, killed on drop.
struct Driver {
    child: tokio::process::Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

async fn start_driver() -> Option<Driver> {
    if !std::path::Path::new(CHROMEDRIVER).exists() || !std::path::Path::new(CHROMIUM).exists() {
        // CI installs them (.ci/run); on a developer machine without them, say so loudly.
        assert!(
            std::env::var("CI").is_err(),
            "chromium and chromium-driver must be installed in CI"
        );
        eprintln!("SKIPPED browser test: install Debian's chromium and chromium-driver to run it");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tokio::process::Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    // Wait until the driver answers (bounded).
    for _ in 0..100 {
        if reqwest::get(format!("{url}/status")).await.is_ok() {
            return Some(Driver { child, url });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

async fn browser(driver: &Driver) -> WebDriver {
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary(CHROMIUM).unwrap();
    for arg in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--no-first-run",
        "--window-size=1280,900",
    ] {
        caps.add_arg(arg).unwrap();
    }
    let wd = WebDriver::new(&driver.url, caps)
        .await
        .expect("browser session");
    wd.set_implicit_wait_timeout(Duration::from_secs(5))
        .await
        .unwrap();
    wd
}

async fn login(wd: &WebDriver, base: &str, user: &str, password: &str) {
    wd.goto(format!("{base}/login")).await.unwrap();
    wd.find(By::Id("username"))
        .await
        .unwrap()
        .send_keys(user)
        .await
        .unwrap();
    wd.find(By::Id("password"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    wd.find(By::Id("login-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wd.find(By::Id("sidebar"))
        .await
        .expect("logged in: the sidebar shows");
}

async fn sidebar_paths(wd: &WebDriver) -> Vec<String> {
    let mut out = Vec::new();
    for a in wd
        .find_all(By::Css("#sidebar a[data-menu-path]"))
        .await
        .unwrap()
    {
        out.push(a.attr("data-menu-path").await.unwrap().unwrap_or_default());
    }
    out
}

#[tokio::test]
async fn admin_creates_a_developer_whose_sidebar_differs() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = spawn().await;
    let wd = browser(&driver).await;
    let result = async {
        login(&wd, &app.base, "admin", ADMIN_PASSWORD).await;
        let admin_paths = sidebar_paths(&wd).await;
        assert!(
            admin_paths.contains(&"/admin/users".to_owned()),
            "{admin_paths:?}"
        );
        assert!(admin_paths.contains(&"/admin/audit".to_owned()));

        wd.find(By::Css("a[data-menu-path='/admin/users']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wd.find(By::Id("new-user"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wd.find(By::Id("username"))
            .await
            .unwrap()
            .send_keys("devon")
            .await
            .unwrap();
        wd.find(By::Id("display_name"))
            .await
            .unwrap()
            .send_keys("Devon Dev")
            .await
            .unwrap();
        wd.find(By::Id("password"))
            .await
            .unwrap()
            .send_keys("devon-password")
            .await
            .unwrap();
        wd.find(By::Css("input[name=roles][value=developer]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wd.find(By::Id("create-user"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let row = wd
            .find(By::Css("tr[data-username=devon]"))
            .await
            .expect("the new user is listed");
        assert!(row.text().await.unwrap().contains("developer"));

        wd.find(By::Id("logout"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wd.find(By::Id("login-submit"))
            .await
            .expect("back on the login page");

        login(&wd, &app.base, "devon", "devon-password").await;
        let dev_paths = sidebar_paths(&wd).await;
        assert!(
            !dev_paths.contains(&"/admin/users".to_owned()),
            "{dev_paths:?}"
        );
        assert!(!dev_paths.contains(&"/admin/audit".to_owned()));
        assert_eq!(
            wd.find(By::Id("me")).await.unwrap().text().await.unwrap(),
            "Devon Dev (devon)"
        );

        // A page the developer may not open answers 403, not the page.
        wd.goto(format!("{}/admin/users", app.base)).await.unwrap();
        let msg = wd
            .find(By::Id("error-message"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(msg.contains("users.manage"), "{msg}");
    }
    .await;
    wd.quit().await.unwrap();
    result
}

#[tokio::test]
async fn the_crm_section_lists_creates_and_moves_records() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = spawn().await;
    let wd = browser(&driver).await;
    let result = async {
        login(&wd, &app.base, "admin", ADMIN_PASSWORD).await;
        wd.find(By::Css("a[data-menu-path='/crm/customer.list']"))
            .await
            .expect("CRM in the sidebar")
            .click()
            .await
            .unwrap();
        wd.find(By::Id("new-record"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // Submitting without a name shows the error inline and keeps what was typed.
        wd.find(By::Id("in-email"))
            .await
            .unwrap()
            .send_keys("ops@acme.test")
            .await
            .unwrap();
        wd.find(By::Id("save-record"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let err = wd
            .find(By::Css("[data-error-for=name]"))
            .await
            .expect("inline error")
            .text()
            .await
            .unwrap();
        assert!(err.contains("required"), "{err}");
        assert_eq!(
            wd.find(By::Id("in-email"))
                .await
                .unwrap()
                .value()
                .await
                .unwrap()
                .as_deref(),
            Some("ops@acme.test")
        );
        wd.find(By::Id("in-name"))
            .await
            .unwrap()
            .send_keys("Acme <b>Corp</b>")
            .await
            .unwrap();
        wd.find(By::Id("save-record"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let status = wd
            .find(By::Css("td[data-field=status]"))
            .await
            .expect("detail page")
            .text()
            .await
            .unwrap();
        assert_eq!(status, "Lead", "states show their labels");
        assert_eq!(
            wd.find(By::Css("td[data-field=name]"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
            "Acme <b>Corp</b>",
            "shown as text"
        );
        wd.find(By::Css("button[data-transition=activate]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // Wait for the page after the transition, not the one being left behind.
        wd.find(By::XPath(
            "//td[@data-field='status'][normalize-space()='Active']",
        ))
        .await
        .expect("the record is active after the transition");
        wd.goto(format!("{}/crm/customer.list", app.base))
            .await
            .unwrap();
        let rows = wd.find_all(By::Css("#records tr[data-id]")).await.unwrap();
        assert_eq!(rows.len(), 1);
    }
    .await;
    wd.quit().await.unwrap();
    result
}

/// Waits (bounded) until the element's text contains `needle`; returns the text.
async fn text_eventually(wd: &WebDriver, by: By, needle: &str) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(el) = wd.find(by.clone()).await {
            last = el.text().await.unwrap_or_default();
            if last.contains(needle) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("expected {needle:?}, saw {last:?}");
}

async fn type_into(wd: &WebDriver, id: &str, text: &str) {
    let el = wd.find(By::Id(id)).await.unwrap();
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

async fn click(wd: &WebDriver, by: By) {
    // The implicit wait is 5 s; a machine busy with the rest of the suite can take
    // longer to load the next page, and a list the page re-renders (a picker's
    // options as more is typed) can replace the element between finding and
    // clicking it: look again a few times before failing.
    let mut last = None;
    for _ in 0..4 {
        match wd.find(by.clone()).await {
            Ok(el) => match el.click().await {
                Ok(()) => return,
                Err(e) => last = Some(e),
            },
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("no element {by:?}: {last:?}");
}

#[tokio::test]
async fn admin_adds_kimi_tests_it_retries_and_makes_it_the_default() {
    use llm::testing::{FakeLlm, Reply};
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = spawn().await;
    let fake = FakeLlm::start().await;
    let key = "sk-browser-key-0123456789wxyz";
    fake.require_key(key).known_models(&["kimi-k2.6"]);
    // The first test fails with a rate limit the retries cannot outlast; Retry succeeds.
    fake.push(Reply::Status {
        status: 429,
        message: "Your account has insufficient quota".into(),
        retry_after: None,
    });
    let wd = browser(&driver).await;
    let result = async {
        login(&wd, &app.base, "admin", ADMIN_PASSWORD).await;
        click(&wd, By::Css("a[data-menu-path='/admin/ai-models']")).await;
        text_eventually(&wd, By::Css("#models"), "Built-in (offline)").await;
        click(&wd, By::Id("new-model")).await;

        // Kimi is pre-filled.
        let provider = wd.find(By::Id("provider")).await.unwrap();
        assert_eq!(provider.value().await.unwrap().as_deref(), Some("kimi"));
        let url = wd.find(By::Id("base_url")).await.unwrap();
        assert_eq!(
            url.value().await.unwrap().as_deref(),
            Some("https://api.moonshot.cn/v1")
        );
        assert_eq!(
            wd.find(By::Id("model"))
                .await
                .unwrap()
                .value()
                .await
                .unwrap()
                .as_deref(),
            Some("kimi-k2.6")
        );

        // Saving without a key shows the error inline.
        type_into(&wd, "base_url", &fake.base_url(llm::Protocol::OpenAi)).await;
        click(&wd, By::Id("save")).await;
        text_eventually(&wd, By::Css(".field-error"), "required").await;
        type_into(&wd, "api_key", key).await;
        click(&wd, By::Id("save")).await;

        // On the model's page: test, see the failure, retry, see it connected.
        click(&wd, By::Id("test-button")).await;
        let failed = text_eventually(&wd, By::Css(".test-result .flash"), "rate_limited").await;
        assert!(!failed.contains(key));
        click(&wd, By::Css(".test-result button.retry")).await;
        let ok = text_eventually(&wd, By::Css(".test-result .flash"), "Connected").await;
        assert!(ok.contains("kimi-k2.6") && ok.contains("ms"), "{ok}");
        // The provider's live model list is offered; picking one fills the form.
        click(&wd, By::Css("button.pick-model")).await;
        assert_eq!(
            wd.find(By::Id("model"))
                .await
                .unwrap()
                .value()
                .await
                .unwrap()
                .as_deref(),
            Some("kimi-k2.6")
        );

        // The page never carries the key, only its mask.
        wd.goto(format!("{}/admin/ai-models", app.base))
            .await
            .unwrap();
        let html = wd.source().await.unwrap();
        assert!(!html.contains(key));
        assert!(html.contains("sk-…wxyz"));
        click(
            &wd,
            By::Css("tr[data-name='Kimi (Moonshot)'] button.make-default"),
        )
        .await;
        text_eventually(
            &wd,
            By::Css("tr[data-name='Kimi (Moonshot)'] .default-badge"),
            "default",
        )
        .await;
        let row = wd
            .find(By::Css("tr[data-name='Kimi (Moonshot)']"))
            .await
            .unwrap();
        assert!(row.text().await.unwrap().contains("ok"));
        let builtin_badges = wd
            .find_all(By::Css("tr[data-name='Built-in (offline)'] .default-badge"))
            .await
            .unwrap();
        assert!(builtin_badges.is_empty(), "exactly one default");
    }
    .await;
    wd.quit().await.unwrap();
    result
}

/// Waits (bounded) until the page has navigated to a URL containing `needle`.
async fn url_eventually(wd: &WebDriver, needle: &str) {
    for _ in 0..100 {
        if wd.current_url().await.unwrap().as_str().contains(needle) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never reached a URL with {needle}");
}

async fn version_rows(wd: &WebDriver) -> usize {
    wd.find_all(By::Css("#versions tr[data-version]"))
        .await
        .unwrap()
        .len()
}

async fn rows_eventually(wd: &WebDriver, n: usize) {
    for _ in 0..100 {
        if version_rows(wd).await == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("expected {n} versions, saw {}", version_rows(wd).await);
}

#[tokio::test]
async fn a_developer_generates_edits_saves_diffs_and_restores_a_module() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = spawn().await;
    let admin = app.admin().await;
    app.create_user(&admin, "devi", &["developer"]).await;
    let wd = browser(&driver).await;
    let result = async {
        login(&wd, &app.base, "devi", "devi-password").await;
        click(&wd, By::Css("a[data-menu-path='/admin/ai-modules/develop']")).await;
        type_into(&wd, "name", "Loyalty").await;
        click(&wd, By::Id("create-module")).await;
        url_eventually(&wd, "/admin/ai-modules/develop/").await;
        let base_url = wd.current_url().await.unwrap().to_string();

        // Ask the offline engine in English; the page streams, then shows v1.
        type_into(&wd, "prompt", "add an integer field loyaltyPoints to Customer with min 0").await;
        click(&wd, By::Id("generate")).await;
        rows_eventually(&wd, 1).await;
        let editor = wd.find(By::Id("patch-editor")).await.unwrap();
        assert!(editor.prop("value").await.unwrap().unwrap_or_default().contains("loyaltyPoints"));
        text_eventually(&wd, By::Id("report"), "L1").await;
        text_eventually(&wd, By::Id("changes"), "loyaltyPoints").await;

        // Edit the JSON: an error shows as you type, the fix validates, then save v2.
        wd.execute(
            "const e = document.getElementById('patch-editor'); e.value = e.value.replace('\"Customer\"', '\"Customr\"'); e.dispatchEvent(new Event('input'));",
            vec![],
        )
        .await
        .unwrap();
        text_eventually(&wd, By::Id("report"), "E_").await;
        wd.execute(
            "const e = document.getElementById('patch-editor'); e.value = e.value.replace('\"Customr\"', '\"Customer\"').replace('Loyalty points', 'Points'); e.dispatchEvent(new Event('input'));",
            vec![],
        )
        .await
        .unwrap();
        text_eventually(&wd, By::Id("report"), "valid").await;
        type_into(&wd, "message", "Shorter label").await;
        click(&wd, By::Id("save-version")).await;
        rows_eventually(&wd, 2).await;
        assert!(wd.find(By::Id("patch-editor")).await.unwrap().prop("value").await.unwrap().unwrap_or_default().contains("\"Points\""));

        // Generate again, in Chinese: the request extends the current patch.
        type_into(&wd, "prompt", "给客户添加一个日期字段 生日").await;
        click(&wd, By::Id("generate")).await;
        rows_eventually(&wd, 3).await;
        let text = wd.find(By::Id("patch-editor")).await.unwrap().prop("value").await.unwrap().unwrap_or_default();
        assert!(text.contains("birthday") && text.contains("\"Points\""), "{text}");
        text_eventually(&wd, By::Id("conversation"), "生日").await;

        // Diff v1 → v3, then restore v1 as v4.
        wd.find(By::Css("#diff-from option[value='1']")).await.unwrap().click().await.unwrap();
        wd.find(By::Css("#diff-to option[value='3']")).await.unwrap().click().await.unwrap();
        click(&wd, By::Id("show-diff")).await;
        text_eventually(&wd, By::Id("version-diff"), "birthday").await;
        click(&wd, By::Css("button.restore[data-version='1']")).await;
        rows_eventually(&wd, 4).await;
        text_eventually(&wd, By::Css("tr[data-version='4']"), "restore").await;
        assert!(wd.current_url().await.unwrap().to_string().starts_with(&base_url));
    }
    .await;
    wd.quit().await.unwrap();
    result
}

#[tokio::test]
async fn a_developer_runs_the_tests_and_reads_the_report() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = spawn().await;
    let admin = app.admin().await;
    let resp = admin
        .post("/api/modules")
        .json(&serde_json::json!({ "name": "Loyalty" }))
        .send()
        .await
        .unwrap();
    let id = resp.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = admin
        .post(&format!("/api/modules/{id}/generate"))
        .json(&serde_json::json!({ "prompt": "add an integer field loyaltyPoints to Customer with min 0" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    app.create_user(&admin, "tess", &["developer"]).await;
    let wd = browser(&driver).await;
    let result = async {
        login(&wd, &app.base, "tess", "tess-password").await;
        click(&wd, By::Css("a[data-menu-path='/admin/ai-modules/test']")).await;
        click(&wd, By::Id("run-tests")).await;
        // Progress streams in, then the page shows the stored report.
        text_eventually(&wd, By::Id("gate"), "Ready to submit").await;
        let summary = wd
            .find(By::Id("report-summary"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(summary.contains("passed"), "{summary}");
        let passed = wd
            .find_all(By::Css("tr.scenario[data-status='passed']"))
            .await
            .unwrap()
            .len();
        assert!(passed >= 40, "{passed} scenarios passed");
        assert!(
            wd.find_all(By::Css("tr.scenario[data-status='failed']"))
                .await
                .unwrap()
                .is_empty()
        );
        wd.find(By::Css("svg#trend polyline"))
            .await
            .expect("the trend chart");
        wd.find(By::Css(".bar .fill")).await.expect("coverage bars");
        let href = wd
            .find(By::Id("export-junit"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        assert!(href.contains("format=junit"));
    }
    .await;
    wd.quit().await.unwrap();
    result
}

#[tokio::test]
async fn a_developer_submits_a_reviewer_comments_and_rejects_the_author_cannot_approve() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = spawn().await;
    let admin = app.admin().await;
    // The developer may review too: only four-eyes keeps them from deciding.
    app.create_user(&admin, "dana", &["developer", "reviewer"])
        .await;
    app.create_user(&admin, "rita", &["reviewer"]).await;
    let dana = app.login("dana", "dana-password").await;
    let id = dana
        .post("/api/modules")
        .json(&serde_json::json!({ "name": "Loyalty" }))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (path, body) in [
        (
            format!("/api/modules/{id}/generate"),
            serde_json::json!({ "prompt": "add an integer field loyaltyPoints to Customer with min 0" }),
        ),
        (
            format!("/api/modules/{id}/test-runs"),
            serde_json::json!({}),
        ),
    ] {
        assert_eq!(
            dana.post(&path).json(&body).send().await.unwrap().status(),
            201
        );
    }
    let dev = browser(&driver).await;
    let rev = browser(&driver).await;
    let result = async {
        login(&rev, &app.base, "rita", "rita-password").await;
        // The bell starts empty.
        let bell = rev.find(By::Id("unread-count")).await.unwrap();
        assert_eq!(bell.text().await.unwrap(), "");

        // The developer submits from the workspace and lands on the review page,
        // where four-eyes disables approving, with the reason.
        login(&dev, &app.base, "dana", "dana-password").await;
        dev.goto(format!("{}/admin/ai-modules/develop/{id}", app.base))
            .await
            .unwrap();
        type_into(&dev, "submit-note", "ready for a look").await;
        click(&dev, By::Id("submit-review")).await;
        url_eventually(&dev, "/admin/ai-modules/review/").await;
        text_eventually(&dev, By::Id("review-status"), "pending").await;
        let approve = dev.find(By::Id("approve")).await.unwrap();
        assert!(
            !approve.is_enabled().await.unwrap(),
            "the author cannot approve"
        );
        let why = approve.attr("title").await.unwrap().unwrap_or_default();
        assert!(why.contains("four-eyes"), "{why}");

        // The reviewer's bell counts it live; the queue lists it.
        text_eventually(&rev, By::Id("unread-count"), "1").await;
        click(
            &rev,
            By::Css("a[data-menu-path='/admin/ai-modules/review']"),
        )
        .await;
        click(&rev, By::Css("#review-queue a")).await;
        text_eventually(&rev, By::Id("review-head"), "Loyalty").await;
        let ops = rev.find_all(By::Css("#operations li")).await.unwrap();
        assert!(!ops.is_empty());
        assert!(ops[0].text().await.unwrap().contains("L1"));
        assert!(
            rev.find(By::Id("spec-diff"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
                .contains("loyaltyPoints")
        );
        text_eventually(&rev, By::Id("test-report"), "passed").await;

        // A comment on operation 0, shown under that operation.
        type_into(&rev, "comment-body", "Why **no maximum**?").await;
        rev.find(By::Css("#comment-operation option[value='0']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        click(&rev, By::Id("comment-submit")).await;
        text_eventually(
            &rev,
            By::Css("#operations li[data-op='0'] .comment-body strong"),
            "no maximum",
        )
        .await;

        // Rejecting asks for a reason (the browser refuses an empty one); with one, it is rejected.
        click(&rev, By::Id("reject")).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        text_eventually(&rev, By::Id("review-status"), "pending").await;
        type_into(&rev, "reject-reason", "points need a maximum").await;
        click(&rev, By::Id("reject")).await;
        text_eventually(&rev, By::Id("review-status"), "rejected").await;
        text_eventually(&rev, By::Id("decision-reason"), "points need a maximum").await;

        // The developer sees the reason in the workspace and a notification.
        dev.goto(format!("{}/admin/ai-modules/develop/{id}", app.base))
            .await
            .unwrap();
        text_eventually(&dev, By::Id("review-reason"), "points need a maximum").await;
        text_eventually(&dev, By::Id("unread-count"), "2").await;
        click(&dev, By::Id("bell")).await;
        text_eventually(&dev, By::Id("notifications"), "rejected version").await;

        // In Chinese, the queue speaks Chinese.
        rev.goto(format!("{}/lang/zh", app.base)).await.unwrap();
        rev.goto(format!("{}/admin/ai-modules/review", app.base))
            .await
            .unwrap();
        text_eventually(&rev, By::Tag("h1"), "AI 模块审核").await;
        text_eventually(&rev, By::Id("review-queue"), "已驳回").await;
    }
    .await;
    dev.quit().await.unwrap();
    rev.quit().await.unwrap();
    result
}

#[tokio::test]
async fn a_publisher_publishes_and_unpublishes_after_reading_the_impact() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = crate::harness::spawn_with(|c| c.test_gate = 0.0).await;
    let admin = app.admin().await;
    app.create_user(&admin, "dana", &["developer"]).await;
    app.create_user(&admin, "rita", &["reviewer"]).await;
    app.create_user(&admin, "paul", &["publisher"]).await;
    let dana = app.login("dana", "dana-password").await;
    let rita = app.login("rita", "rita-password").await;
    let post = |s: &crate::harness::Session, path: String, body: serde_json::Value| {
        let req = s.post(&path).json(&body);
        async move {
            req.send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let id = post(
        &dana,
        "/api/modules".into(),
        serde_json::json!({ "name": "Loyalty" }),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    post(&dana, format!("/api/modules/{id}/generate"), serde_json::json!({ "prompt": "add an integer field loyaltyPoints to Customer with min 0" })).await;
    post(
        &dana,
        format!("/api/modules/{id}/test-runs"),
        serde_json::json!({}),
    )
    .await;
    let review = post(
        &dana,
        format!("/api/modules/{id}/submit"),
        serde_json::json!({ "version": 1 }),
    )
    .await;
    post(
        &rita,
        format!("/api/reviews/{}/approve", review["id"].as_str().unwrap()),
        serde_json::json!({}),
    )
    .await;
    let wd = browser(&driver).await;
    let result = async {
        login(&wd, &app.base, "paul", "paul-password").await;
        click(
            &wd,
            By::Css("a[data-menu-path='/admin/ai-modules/publish']"),
        )
        .await;
        // The approved version waits; publishing shows the impact first.
        click(&wd, By::Css("#ready button[data-act='publish']")).await;
        text_eventually(&wd, By::Id("impact-changes"), "loyaltyPoints").await;
        text_eventually(&wd, By::Id("impact-data"), "No existing record").await;
        click(&wd, By::Id("impact-confirm")).await;
        text_eventually(
            &wd,
            By::Css("#publications tr[data-status='published']"),
            "1.0.0",
        )
        .await;
        assert!(
            wd.find_all(By::Css("#ready tr[data-module]"))
                .await
                .unwrap()
                .is_empty()
        );
        text_eventually(&wd, By::Id("spec-history"), "publish Loyalty v1 (1.0.0)").await;

        // Unpublishing shows what would be hidden.
        click(&wd, By::Css("#publications button[data-act='unpublish']")).await;
        text_eventually(&wd, By::Id("impact-data"), "hidden loyaltyPoints").await;
        click(&wd, By::Id("impact-confirm")).await;
        text_eventually(
            &wd,
            By::Css("#publications tr[data-status='unpublished']"),
            "unpublished",
        )
        .await;

        // 上架 in Chinese.
        wd.goto(format!("{}/lang/zh", app.base)).await.unwrap();
        wd.goto(format!("{}/admin/ai-modules/publish", app.base))
            .await
            .unwrap();
        text_eventually(&wd, By::Tag("h1"), "AI 模块上架").await;
        text_eventually(&wd, By::Id("publications"), "已下架").await;
    }
    .await;
    wd.quit().await.unwrap();
    result
}

/// The option of an open picker that reads `title`, once the lookup has answered.
async fn pick(wd: &WebDriver, input: &str, typed: &str, title: &str) {
    type_into(wd, input, typed).await;
    let xpath = format!(
        "//input[@id='{input}']/following-sibling::ul/li[@data-id][normalize-space()='{title}']"
    );
    click(wd, By::XPath(&xpath)).await;
    let hidden = wd
        .find(By::XPath(format!(
            "//input[@id='{input}']/preceding-sibling::input[@type='hidden']"
        )))
        .await
        .unwrap();
    let id = hidden.value().await.unwrap().unwrap_or_default();
    assert_eq!(
        id.len(),
        36,
        "the picker holds the chosen record's id: {id:?}"
    );
}

#[tokio::test]
async fn a_new_user_picks_a_customer_by_name_reads_chinese_and_imports_csv() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = spawn().await;
    let api = app.admin().await;
    for (name, email) in [("Acme Corp", "ops@acme.test"), ("Beta Ltd", "hi@beta.test")] {
        api.post("/api/data/Customer")
            .json(&serde_json::json!({ "name": name, "email": email }))
            .send()
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("customers-bad.csv");
    std::fs::write(
        &bad,
        "name,email,tier\nGamma Inc,g@gamma.test,Gold\nDelta,not-an-email,silver\n",
    )
    .unwrap();
    let good = dir.path().join("customers.csv");
    std::fs::write(
        &good,
        "name,email,tier\nGamma Inc,g@gamma.test,Gold\nDelta,d@delta.test,silver\n",
    )
    .unwrap();
    let wd = browser(&driver).await;
    let result = async {
        login(&wd, &app.base, "admin", ADMIN_PASSWORD).await;
        // A new order: the customer is chosen by typing part of its name.
        wd.goto(format!("{}/crm/order.list", app.base))
            .await
            .unwrap();
        click(&wd, By::Id("new-record")).await;
        let number = wd.find(By::Css("output[data-auto=number]")).await.unwrap();
        assert!(number.text().await.unwrap().contains("automatically"));
        pick(&wd, "in-customer", "acm", "Acme Corp").await;
        type_into(&wd, "in-amount", "120.50").await;
        click(&wd, By::Id("save-record")).await;
        let title = text_eventually(&wd, By::Id("record-title"), "SO-").await;
        assert_eq!(title, "SO-000001");
        let customer = wd.find(By::Css("td[data-field=customer] a")).await.unwrap();
        assert_eq!(customer.text().await.unwrap(), "Acme Corp");

        // The list reads customer names; status filters from a select of labels, the
        // customer from a picker.
        wd.goto(format!("{}/crm/order.list", app.base))
            .await
            .unwrap();
        let cell = wd
            .find(By::Css("#records td[data-column=customer] a"))
            .await
            .unwrap();
        assert_eq!(cell.text().await.unwrap(), "Acme Corp");
        click(
            &wd,
            By::XPath("//select[@id='f-status']/option[normalize-space()='Draft']"),
        )
        .await;
        pick(&wd, "f-customer", "beta", "Beta Ltd").await;
        click(&wd, By::Css("form.filters button[type=submit]")).await;
        url_eventually(&wd, "status=draft").await;
        assert!(
            wd.current_url()
                .await
                .unwrap()
                .as_str()
                .contains("customer=")
        );
        assert!(
            wd.find_all(By::Css("#records tr[data-id]"))
                .await
                .unwrap()
                .is_empty()
        );
        pick(&wd, "f-customer", "CORP", "Acme Corp").await;
        click(&wd, By::Css("form.filters button[type=submit]")).await;
        text_eventually(
            &wd,
            By::Css("#records td[data-column=customer]"),
            "Acme Corp",
        )
        .await;
        assert_eq!(
            wd.find_all(By::Css("#records tr[data-id]"))
                .await
                .unwrap()
                .len(),
            1
        );

        // 中文: every CRM label in Chinese.
        click(&wd, By::Id("lang-switch")).await;
        text_eventually(&wd, By::Css("main h1"), "订单").await;
        let heads: Vec<String> = {
            let mut out = Vec::new();
            for th in wd.find_all(By::Css("#records th")).await.unwrap() {
                out.push(th.text().await.unwrap());
            }
            out
        };
        assert_eq!(
            heads,
            ["订单编号", "客户", "金额", "币种", "状态", "下单日期"]
        );
        let status = wd
            .find(By::Css("#records td[data-column=status]"))
            .await
            .unwrap();
        assert_eq!(status.text().await.unwrap(), "草稿");
        let sidebar = wd
            .find(By::Id("sidebar"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            sidebar.contains("客户管理") && sidebar.contains("财务交易"),
            "{sidebar}"
        );

        // Import customers: a bad row is named and nothing is written; then all are.
        wd.goto(format!("{}/crm/customer.list", app.base))
            .await
            .unwrap();
        click(&wd, By::Id("import-csv")).await;
        wd.find(By::Id("import-file"))
            .await
            .unwrap()
            .send_keys(bad.to_str().unwrap())
            .await
            .unwrap();
        click(&wd, By::Id("import-dry")).await; // off: a real import
        click(&wd, By::Id("import-run")).await;
        let row = wd
            .find(By::Css("#import-errors tr[data-row='3']"))
            .await
            .expect("the failing row is listed");
        let text = row.text().await.unwrap();
        assert!(text.contains("email") && text.contains("format"), "{text}");
        assert_eq!(
            api.get_json("/api/data/Customer?perPage=1").await["total"],
            2,
            "nothing was written"
        );
        let file = wd.find(By::Id("import-file")).await.unwrap();
        file.clear().await.unwrap();
        file.send_keys(good.to_str().unwrap()).await.unwrap();
        click(&wd, By::Id("import-run")).await;
        text_eventually(&wd, By::Id("import-done"), "2").await;
        let gamma = api.get_json("/api/data/Customer?name=Gamma%20Inc").await;
        assert_eq!(gamma["items"][0]["tier"], "gold");
    }
    .await;
    wd.quit().await.unwrap();
    result
}

#[tokio::test]
async fn a_developer_previews_a_module_uses_its_field_and_transition_and_leaves_production_as_it_was()
 {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = spawn().await;
    let admin = app.admin().await;
    let m: serde_json::Value = admin
        .post("/api/modules")
        .json(&serde_json::json!({ "name": "Loyalty", "description": "points" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let module = m["id"].as_str().unwrap().to_owned();
    let g = admin
        .post(&format!("/api/modules/{module}/generate"))
        .json(&serde_json::json!({ "prompt": "add an integer field loyaltyPoints to Customer with default 0 and min 0; add transition archive from lead to archived on Customer" }))
        .send()
        .await
        .unwrap();
    assert_eq!(g.status(), reqwest::StatusCode::CREATED);
    let before = admin.get_json("/api/data/Customer").await;
    let wd = browser(&driver).await;
    let result = async {
        login(&wd, &app.base, "admin", ADMIN_PASSWORD).await;
        wd.goto(format!("{}/admin/ai-modules/develop/{module}", app.base))
            .await
            .unwrap();
        click(&wd, By::Id("open-preview")).await;
        url_eventually(&wd, "/preview/").await;
        text_eventually(&wd, By::Id("preview-banner"), "Loyalty").await;
        click(&wd, By::Id("new-record")).await;
        type_into(&wd, "in-name", "Initech").await;
        type_into(&wd, "in-email", "it@initech.test").await;
        type_into(&wd, "in-loyaltyPoints", "42").await;
        click(&wd, By::Id("save-record")).await;
        text_eventually(&wd, By::Css("td[data-field=loyaltyPoints]"), "42").await;
        click(&wd, By::Css("button[data-transition=archive]")).await;
        wd.find(By::XPath(
            "//td[@data-field='status'][normalize-space()='Archived']",
        ))
        .await
        .expect("the module's transition ran in the preview");
        click(&wd, By::Id("preview-leave")).await;
        url_eventually(&wd, &format!("/admin/ai-modules/develop/{module}")).await;
    }
    .await;
    wd.quit().await.unwrap();
    assert_eq!(
        admin.get_json("/api/data/Customer").await,
        before,
        "production is unchanged"
    );
    result
}

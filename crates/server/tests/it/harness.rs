use reqwest::{Client, Response, StatusCode, redirect};
use serde_json::{Value, json};
use server::{Application, Config};
use store::Db;

pub const ADMIN_PASSWORD: &str = "admin-password-1";

pub struct TestApp {
    pub base: String,
    pub db: Db,
    /// Taken by [`restart`], which moves the database to the next server.
    db_guard: Option<store::testing::TestDb>,
    /// The data dir (instance secret); a restart keeps it.
    dir: Option<tempfile::TempDir>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Stops the server — waiting until it has finished, its background work included —
/// and starts a new one on the same database: a restart.
pub async fn restart(mut app: TestApp) -> TestApp {
    if let Some(tx) = app.shutdown.take() {
        let _ = tx.send(());
    }
    let server = app.server.take().expect("a running server");
    // A bound, not a measurement: a server that never stops would hang the suite.
    tokio::time::timeout(std::time::Duration::from_secs(30), server)
        .await
        .expect("the server stops after its shutdown signal")
        .expect("the server task ends normally")
        .expect("the server ends without error");
    let guard = app.db_guard.take().expect("the database");
    spawn_on(guard, app.dir.take(), |_| {}).await
}

pub async fn spawn() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let db_guard = store::testing::fresh().await.unwrap();
    spawn_on(db_guard, None, tweak).await
}

/// A second server on the same database as `app` — another replica, holding the same
/// instance secret (as replicas must, to open each other's sealed secrets).
pub async fn spawn_replica(app: &TestApp) -> TestApp {
    let guard = store::testing::TestDb::shared(app.db_guard.as_ref().expect("the database"));
    let dir = tempfile::tempdir().unwrap();
    let primary = app.dir.as_ref().expect("the data dir").path();
    std::fs::copy(primary.join("secret.key"), dir.path().join("secret.key")).unwrap();
    spawn_on(guard, Some(dir), |_| {}).await
}

async fn spawn_on(
    db_guard: store::testing::TestDb,
    dir: Option<tempfile::TempDir>,
    tweak: impl FnOnce(&mut Config),
) -> TestApp {
    let dir = dir.unwrap_or_else(|| tempfile::tempdir().unwrap());
    let mut config = Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        database_url: Some(db_guard.url.clone().into()),
        admin_password: Some(server::config::Secret::new(ADMIN_PASSWORD)),
        ..Config::default()
    };
    tweak(&mut config);
    let (app, seeded) = Application::build(config).await.unwrap();
    assert!(seeded.generated_admin_password.is_none());
    let addr = app.local_addr();
    let db = app.state().app.db.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(async move {
        let _ = rx.await;
    }));
    TestApp {
        base: format!("http://{addr}"),
        db,
        db_guard: Some(db_guard),
        dir: Some(dir),
        shutdown: Some(tx),
        server: Some(server),
    }
}

/// A logged-in API client: session cookie plus the CSRF token for state changes.
pub struct Session {
    pub client: Client,
    pub csrf: String,
    pub base: String,
}

pub fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn login(&self, username: &str, password: &str) -> Session {
        let client = client();
        let resp = client
            .post(self.url("/api/auth/login"))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "login as {username}");
        let body: Value = resp.json().await.unwrap();
        Session {
            client,
            csrf: body["csrfToken"].as_str().unwrap().to_owned(),
            base: self.base.clone(),
        }
    }

    pub async fn admin(&self) -> Session {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Creates a user through the API; returns its id.
    pub async fn create_user(&self, admin: &Session, username: &str, roles: &[&str]) -> String {
        let resp = admin
            .post("/api/users")
            .json(&json!({ "username": username, "password": format!("{username}-password"), "roles": roles }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        let v: Value = resp.json().await.unwrap();
        v["id"].as_str().unwrap().to_owned()
    }

    /// A session made directly in the database, without the cost of a password check.
    pub async fn session_for(&self, user_id: &str) -> (String, String) {
        let token = app::credentials::random_token();
        let csrf = app::credentials::random_token();
        let mut tx = self.db.begin().await.unwrap();
        store::sessions::create(
            &mut tx,
            &app::credentials::token_hash(&token),
            user_id,
            &csrf,
            3_600_000,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        (token, csrf)
    }
}

impl Session {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path))
    }
    /// GETs `path` and reads the answer as JSON, whatever its status.
    pub async fn get_json(&self, path: &str) -> Value {
        self.get(path).send().await.unwrap().json().await.unwrap()
    }
    /// GETs `path` and reads the answer as text (a page), whatever its status.
    pub async fn get_text(&self, path: &str) -> String {
        self.get(path).send().await.unwrap().text().await.unwrap()
    }
    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .post(self.url(path))
            .header("x-csrf-token", &self.csrf)
    }
    pub fn patch(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .patch(self.url(path))
            .header("x-csrf-token", &self.csrf)
    }
    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .delete(self.url(path))
            .header("x-csrf-token", &self.csrf)
    }
}

/// Asserts the API error shape and returns `(status, code, body)`.
pub async fn error_of(resp: Response) -> (StatusCode, String, Value) {
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        ct.starts_with("application/json"),
        "error is JSON, got {ct}"
    );
    let body: Value = resp.json().await.unwrap();
    let code = body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_owned();
    assert!(
        body["error"]["message"].is_string(),
        "error.message: {body}"
    );
    assert!(
        body["error"].get("details").is_some(),
        "error.details: {body}"
    );
    (status, code, body)
}

/// Asserts the status and returns the JSON body (printed when the status differs).
pub async fn json_of(r: Response, want: StatusCode) -> Value {
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, want, "{body}");
    body
}

/// Audit entries matching an action prefix, newest first.
pub async fn audit_entries(admin: &Session, action: &str) -> Vec<Value> {
    let v: Value = admin
        .get(&format!("/api/audit?action={action}&perPage=500"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["items"].as_array().unwrap().clone()
}

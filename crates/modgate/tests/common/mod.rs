//! What the process tests share: a data dir and database per test, the server as a
//! child process.

#![allow(dead_code)]

use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Output, Stdio};

/// A data dir and database for one test; PostgreSQL when TEST_DATABASE_URL is set.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub db: store::testing::TestDb,
}

impl Env {
    pub async fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
            db: store::testing::fresh().await.unwrap(),
        }
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_modgate"));
        c.args(["--data-dir", self.dir.path().to_str().unwrap()])
            .args(args);
        c.env_remove("MODGATE_ADMIN_PASSWORD")
            .env_remove("MODGATE_SECRET_KEY");
        if self.db.url.starts_with("postgres") {
            c.env("DATABASE_URL", &self.db.url);
        } else {
            c.env_remove("DATABASE_URL");
        }
        c
    }

    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut c = self.cmd(args);
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        if let Some(s) = stdin {
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        } else {
            drop(child.stdin.take());
        }
        child.wait_with_output().unwrap()
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A free local port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (bounded) until the server answers `/readyz`.
pub async fn wait_ready(base: &str) {
    for _ in 0..150 {
        if reqwest::get(format!("{base}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the server did not become ready at {base}");
}

/// A child whose output is read as it comes (a chatty child blocks on a full pipe
/// otherwise), so that `stop` can return all of it.
pub struct Running {
    child: std::process::Child,
    out: std::thread::JoinHandle<Vec<u8>>,
    err: std::thread::JoinHandle<Vec<u8>>,
}

pub fn drained(mut child: std::process::Child) -> Running {
    use std::io::Read;
    let mut so = child.stdout.take().expect("stdout piped");
    let mut se = child.stderr.take().expect("stderr piped");
    let out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = so.read_to_end(&mut b);
        b
    });
    let err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = se.read_to_end(&mut b);
        b
    });
    Running { child, out, err }
}

impl Running {
    /// SIGTERM, then everything the process printed: (stdout, stderr).
    pub fn stop(mut self) -> (String, String) {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let _ = self.child.wait();
        (
            text(&self.out.join().unwrap()),
            text(&self.err.join().unwrap()),
        )
    }
}

/// A logged-in session (cookie and CSRF token) over real HTTP.
pub struct Api {
    client: reqwest::Client,
    base: String,
    csrf: String,
}

impl Api {
    pub async fn login(base: &str, user: &str, password: &str) -> Api {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let r: Value = client
            .post(format!("{base}/api/auth/login"))
            .json(&json!({ "username": user, "password": password }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Api {
            client,
            base: base.to_owned(),
            csrf: r["csrfToken"].as_str().expect("logged in").to_owned(),
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> Value {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

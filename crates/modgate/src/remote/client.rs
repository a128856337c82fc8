//! The HTTP side of `modgate remote`: one client with the caller's bearer token, calls
//! made only through the declared endpoints, and the one error type whose kinds are
//! the command's exit codes.

use super::endpoints::{Endpoint, Verb};
use serde_json::Value;
use std::time::Duration;

/// Why a remote command did not complete.
#[derive(Debug)]
pub enum RemoteError {
    /// The command line or its input is wrong (exit 2).
    Usage(String),
    /// The server could not be reached, or answered something that is not the API
    /// (exit 2).
    Transport(String),
    /// A step the lifecycle's state does not allow, found before asking (exit 1):
    /// no review open to decide, no approved version to publish.
    Refused(String),
    /// The server answered with an API error.
    Api {
        status: u16,
        code: String,
        message: String,
        /// The whole error body, for `--json`.
        body: Value,
    },
}

/// What a refused step looks like to a pipeline.
pub const DONE: u8 = 0;
pub const REFUSED: u8 = 1;
pub const FAILED: u8 = 2;

impl RemoteError {
    /// 1 when the server refused the step for a reason the lifecycle gives (a gate
    /// not met, four-eyes, a conflict, an untrusted bundle); 2 for usage, network and
    /// server errors — a malformed request is the caller's usage error too.
    pub fn exit_code(&self) -> u8 {
        match self {
            RemoteError::Usage(_) | RemoteError::Transport(_) => FAILED,
            RemoteError::Refused(_) => REFUSED,
            RemoteError::Api { status, code, .. } => match (*status, code.as_str()) {
                (_, "validation") => FAILED,
                (403 | 409 | 412 | 422, _) => REFUSED,
                _ => FAILED,
            },
        }
    }

    /// The sentences to print: the message, then any reasons or field errors the
    /// server listed.
    pub fn lines(&self) -> Vec<String> {
        match self {
            RemoteError::Usage(m) | RemoteError::Transport(m) | RemoteError::Refused(m) => {
                vec![m.clone()]
            }
            RemoteError::Api {
                status,
                code,
                message,
                body,
            } => {
                let mut out = vec![format!("{message} ({status} {code})")];
                let details = &body["error"]["details"];
                if let Some(reasons) = details["reasons"].as_array() {
                    out.extend(reasons.iter().map(|r| {
                        let text = r["message"].as_str().or(r.as_str()).unwrap_or_default();
                        format!("  - {text}")
                    }));
                }
                if let Some(fields) = details["fields"].as_array() {
                    let said = out[0].clone();
                    out.extend(
                        fields
                            .iter()
                            .map(|f| {
                                format!(
                                    "{}: {}",
                                    f["field"].as_str().unwrap_or_default(),
                                    f["message"].as_str().unwrap_or_default()
                                )
                            })
                            // A one-field error's message already is that field's.
                            .filter(|line| !said.starts_with(line.as_str()))
                            .map(|line| format!("  - {line}")),
                    );
                }
                out
            }
        }
    }

    /// The error as JSON: the server's body, or one in its shape.
    pub fn json(&self) -> Value {
        match self {
            RemoteError::Api { body, .. } => body.clone(),
            RemoteError::Usage(m) => error_body("usage", m),
            RemoteError::Transport(m) => error_body("transport", m),
            RemoteError::Refused(m) => error_body("refused", m),
        }
    }
}

fn error_body(code: &str, message: &str) -> Value {
    serde_json::json!({ "error": { "code": code, "message": message, "details": {} } })
}

pub type Result<T> = std::result::Result<T, RemoteError>;

pub struct Client {
    http: reqwest::Client,
    base: reqwest::Url,
    token: String,
}

impl Client {
    pub fn new(url: &str, token: &str, timeout: Duration) -> Result<Client> {
        let base = reqwest::Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| {
                RemoteError::Usage(format!(
                    "--url / MODGATE_URL: '{url}' is not an http(s) address"
                ))
            })?;
        if token.trim().is_empty() {
            return Err(RemoteError::Usage(
                "no token: set MODGATE_TOKEN (a personal API token, Account → API tokens)".into(),
            ));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(timeout)
            .user_agent(concat!("modgate-remote/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| RemoteError::Transport(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            http,
            base,
            token: token.trim().to_owned(),
        })
    }

    /// The address of an endpoint with its path parameters filled in, in order.
    fn url(&self, ep: &Endpoint, params: &[&str]) -> Result<reqwest::Url> {
        let mut url = self.base.clone();
        {
            let mut segments = url
                .path_segments_mut()
                .map_err(|_| RemoteError::Usage(format!("{} cannot carry a path", self.base)))?;
            segments.pop_if_empty();
            let mut params = params.iter();
            for part in ep.path.split('/').filter(|p| !p.is_empty()) {
                if part.starts_with('{') {
                    let value = params.next().copied().unwrap_or_default();
                    segments.push(value);
                } else {
                    segments.push(part);
                }
            }
        }
        Ok(url)
    }

    /// Calls the endpoint; the answer's text on success.
    pub async fn text(
        &self,
        ep: &Endpoint,
        params: &[&str],
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<String> {
        for (k, _) in query {
            debug_assert!(ep.query.contains(k), "{} takes no '{k}'", ep.path);
        }
        let url = self.url(ep, params)?;
        let req = match ep.verb {
            Verb::Get => self.http.get(url.clone()),
            Verb::Post => self.http.post(url.clone()),
        }
        .bearer_auth(&self.token)
        .query(query);
        let req = match body {
            Some(b) => req.json(b),
            None => req,
        };
        let resp = req.send().await.map_err(|e| {
            RemoteError::Transport(format!("cannot reach {}: {}", self.base, cause(&e)))
        })?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| {
            RemoteError::Transport(format!("reading the answer of {url}: {}", cause(&e)))
        })?;
        if status == ep.done {
            return Ok(text);
        }
        if (200..300).contains(&status) {
            return Err(RemoteError::Transport(format!(
                "{} {} answered {status} where the API says {}; is the server another release?",
                ep.verb.as_str().to_uppercase(),
                url.path(),
                ep.done
            )));
        }
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        match (
            body["error"]["code"].as_str(),
            body["error"]["message"].as_str(),
        ) {
            (Some(code), Some(message)) => Err(RemoteError::Api {
                status,
                code: code.to_owned(),
                message: message.to_owned(),
                body: body.clone(),
            }),
            _ => Err(RemoteError::Transport(format!(
                "{} {} answered {status} without an API error; is {} a Modgate server?",
                ep.verb.as_str().to_uppercase(),
                url.path(),
                self.base
            ))),
        }
    }

    /// Calls the endpoint; the answer as JSON.
    pub async fn json(
        &self,
        ep: &Endpoint,
        params: &[&str],
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value> {
        let text = self.text(ep, params, query, body).await?;
        serde_json::from_str(&text).map_err(|e| {
            RemoteError::Transport(format!("{} answered with something not JSON: {e}", ep.path))
        })
    }

    pub async fn get(&self, ep: &Endpoint, params: &[&str]) -> Result<Value> {
        self.json(ep, params, &[], None).await
    }

    pub async fn post(&self, ep: &Endpoint, params: &[&str], body: &Value) -> Result<Value> {
        self.json(ep, params, &[], Some(body)).await
    }
}

/// The innermost cause of a transport error (reqwest's outer message says only
/// "error sending request").
fn cause(e: &reqwest::Error) -> String {
    let mut inner: &dyn std::error::Error = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    if e.is_timeout() {
        format!("timed out ({inner})")
    } else {
        inner.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: &str) -> RemoteError {
        RemoteError::Api {
            status,
            code: code.into(),
            message: "m".into(),
            body: Value::Null,
        }
    }

    #[test]
    fn lifecycle_refusals_exit_1_and_everything_else_2() {
        for (status, code) in [
            (403, "four_eyes"),
            (403, "forbidden"),
            (409, "not_ready"),
            (409, "not_approved"),
            (409, "budget_exhausted"),
            (422, "untrusted_key"),
            (422, "tampered"),
            (422, "conflict_with_module"),
        ] {
            assert_eq!(api(status, code).exit_code(), REFUSED, "{status} {code}");
        }
        for (status, code) in [
            (422, "validation"),
            (400, "bad_request"),
            (401, "unauthorized"),
            (404, "not_found"),
            (413, "payload_too_large"),
            (429, "too_many_attempts"),
            (500, "internal"),
            (502, "model_error"),
            (503, "unavailable"),
        ] {
            assert_eq!(api(status, code).exit_code(), FAILED, "{status} {code}");
        }
        assert_eq!(RemoteError::Usage("x".into()).exit_code(), FAILED);
        assert_eq!(RemoteError::Transport("x".into()).exit_code(), FAILED);
        assert_eq!(RemoteError::Refused("x".into()).exit_code(), REFUSED);
    }

    #[test]
    fn path_parameters_are_encoded_into_their_segments() {
        let c = Client::new("http://h:1/base/", "t", Duration::from_secs(1)).unwrap();
        let u = c
            .url(&super::super::endpoints::SUBMIT, &["a b/c?"])
            .unwrap();
        assert_eq!(
            u.as_str(),
            "http://h:1/base/api/modules/a%20b%2Fc%3F/submit"
        );
    }

    #[test]
    fn a_bad_address_or_a_missing_token_is_a_usage_error() {
        for (url, token) in [
            ("localhost:8080", "t"),
            ("ftp://h/", "t"),
            ("http://h/", " "),
        ] {
            let e = Client::new(url, token, Duration::from_secs(1))
                .err()
                .expect("refused");
            assert!(matches!(e, RemoteError::Usage(_)), "{url}: {e:?}");
        }
    }

    #[test]
    fn a_field_error_the_message_already_says_is_not_repeated() {
        let e = RemoteError::Api {
            status: 422,
            code: "validation".into(),
            message: "version: no version 3".into(),
            body: serde_json::json!({"error": {"details": {
                "fields": [{"field": "version", "message": "no version 3"}]
            }}}),
        };
        assert_eq!(e.lines(), ["version: no version 3 (422 validation)"]);
    }

    #[test]
    fn reasons_and_fields_are_listed_under_the_message() {
        let e = RemoteError::Api {
            status: 409,
            code: "not_ready".into(),
            message: "version 2 is not ready".into(),
            body: serde_json::json!({"error": {"details": {
                "reasons": [{"code": "untested", "message": "not tested"}],
                "fields": [{"field": "version", "message": "is old"}]
            }}}),
        };
        assert_eq!(
            e.lines(),
            [
                "version 2 is not ready (409 not_ready)",
                "  - not tested",
                "  - version: is old"
            ]
        );
    }
}

//! The delivery worker: sends what the outbox holds — webhooks (Standard Webhooks
//! signatures) and emails — and retries with exponential backoff. Each attempt is
//! claimed with a lease first, so several workers and replicas never send the same
//! attempt twice; each attempt is audited.

use crate::error::AppResult;
use crate::notifications;
use crate::{App, Caller};
use llm::CancellationToken;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use store::audit::{self, Outcome as AuditOutcome};
use store::deliveries::{Channel, Delivery, Outcome};
use store::{new_id, now_ms};

/// How long a claim holds: longer than any one attempt may take.
const LEASE_MS: i64 = 60_000;
/// How long one attempt may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the outbox is looked at when nothing wakes the worker (other replicas'
/// events, retries falling due).
const POLL: Duration = Duration::from_millis(500);
/// The longest wait between two attempts.
const MAX_BACKOFF_MS: i64 = 3600 * 1000;

/// When to try again after attempt `attempt` failed: about 1 s after the first,
/// doubling; `None` once `max` attempts are spent.
pub fn retry_at(now: i64, attempt: i64, max: u32) -> Option<i64> {
    if attempt >= i64::from(max) {
        return None;
    }
    let exp = (attempt - 1).clamp(0, 30) as u32;
    Some(now + (1000_i64 << exp).min(MAX_BACKOFF_MS))
}

/// Runs the worker until `stop` is cancelled.
pub fn spawn(app: App, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let owner = format!("worker-{}", new_id());
        let http = match reqwest::Client::builder()
            .timeout(SEND_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "the delivery worker cannot build its HTTP client");
                return;
            }
        };
        loop {
            if let Err(e) = run_due(&app, &http, &owner).await {
                tracing::warn!(error = %e, "delivery worker pass failed");
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = app.signals.outbox_changed() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    })
}

/// Sends every delivery that is due now; how many were attempted.
pub async fn run_due(app: &App, http: &reqwest::Client, owner: &str) -> AppResult<usize> {
    let mut n = 0;
    loop {
        let now = now_ms();
        let due = store::deliveries::due(&app.db, now, 20).await?;
        if due.is_empty() {
            return Ok(n);
        }
        for id in due {
            let Some(d) =
                store::deliveries::claim(&app.db, &id, owner, now, now + LEASE_MS).await?
            else {
                continue; // another worker has it
            };
            attempt(app, http, owner, d).await?;
            n += 1;
        }
    }
}

async fn attempt(app: &App, http: &reqwest::Client, owner: &str, d: Delivery) -> AppResult<()> {
    let number = d.attempts + 1;
    let started = Instant::now();
    let (status_code, error) = match d.channel {
        Channel::Webhook => send_webhook(app, http, &d).await,
        Channel::Email => send_email(app, &d).await,
    };
    let delivered = error.is_none();
    let now = now_ms();
    let outcome = Outcome {
        status_code,
        error: error.clone(),
        duration_ms: started.elapsed().as_millis() as i64,
        delivered,
        retry_at: if delivered {
            None
        } else {
            retry_at(now, number, app.config.webhook_max_attempts)
        },
    };
    let mut tx = app.db.begin().await?;
    if !store::deliveries::finish(&mut tx, &d.id, owner, number, &outcome).await? {
        return Ok(()); // the lease ran out and someone else took it
    }
    let action = match d.channel {
        Channel::Webhook => "webhook.delivery",
        Channel::Email => "email.delivery",
    };
    let mut e = Caller::system().audit(
        action,
        if delivered {
            AuditOutcome::Success
        } else {
            AuditOutcome::Failure
        },
    );
    e.resource_type = Some(
        match d.channel {
            Channel::Webhook => "webhook",
            Channel::Email => "delivery",
        }
        .into(),
    );
    e.resource_id = Some(d.webhook_id.clone().unwrap_or_else(|| d.id.clone()));
    e.details = json!({ "delivery": d.id, "eventId": d.event_id, "event": d.event, "attempt": number,
        "statusCode": status_code, "error": error, "recipient": d.recipient,
        "nextAttemptAt": outcome.retry_at.map(crate::time::rfc3339), "durationMs": outcome.duration_ms });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    if !delivered {
        tracing::info!(delivery = %d.id, event = %d.event, attempt = number, error = ?outcome.error, "delivery attempt failed");
    }
    Ok(())
}

/// POSTs the payload with Standard Webhooks headers; the receiver's status, and an
/// error unless it answered 2xx.
async fn send_webhook(
    app: &App,
    http: &reqwest::Client,
    d: &Delivery,
) -> (Option<i64>, Option<String>) {
    let Some(id) = &d.webhook_id else {
        return (None, Some("a webhook delivery without a webhook".into()));
    };
    let w = match store::webhooks::get(&app.db, id).await {
        Ok(Some(w)) if w.enabled => w,
        Ok(Some(_)) => return (None, Some("the webhook is disabled".into())),
        Ok(None) => return (None, Some("the webhook was deleted".into())),
        Err(e) => return (None, Some(format!("cannot read the webhook: {e}"))),
    };
    let secrets = match crate::webhooks::signing_secrets(app, &w) {
        Ok(s) => s,
        Err(e) => return (None, Some(e.to_string())),
    };
    let ts = now_ms() / 1000;
    let signatures: Vec<String> = secrets
        .iter()
        .filter_map(|s| crate::webhooks::signature(s, &d.event_id, ts, &d.payload))
        .collect();
    let r = http
        .post(&w.url)
        .header("content-type", "application/json")
        .header(
            "user-agent",
            concat!("Modgate-Webhooks/", env!("CARGO_PKG_VERSION")),
        )
        .header("webhook-id", &d.event_id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", signatures.join(" "))
        .header("x-modgate-event", &d.event)
        .body(d.payload.clone())
        .send()
        .await;
    match r {
        Ok(resp) if resp.status().is_success() => (Some(i64::from(resp.status().as_u16())), None),
        Ok(resp) => (
            Some(i64::from(resp.status().as_u16())),
            Some(format!("the receiver answered {}", resp.status())),
        ),
        Err(e) => (None, Some(describe(e))),
    }
}

/// A reqwest error without the URL (it may carry credentials).
fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        e.without_url().to_string()
    }
}

/// Sends the notification email; an error unless the SMTP server accepted it.
async fn send_email(app: &App, d: &Delivery) -> (Option<i64>, Option<String>) {
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    let (Some(url), Some(from), Some(to)) =
        (&app.config.smtp_url, &app.config.mail_from, &d.recipient)
    else {
        return (None, Some("email is not configured".into()));
    };
    let payload: Value = serde_json::from_str(&d.payload).unwrap_or(Value::Null);
    let summary = notifications::summary(&payload);
    let link = format!(
        "{}{}",
        app.config.public_url.as_deref().unwrap_or(""),
        notifications::link(&payload)
    );
    let msg = match (from.parse(), to.parse()) {
        (Ok(from), Ok(to)) => Message::builder()
            .from(from)
            .to(to)
            .subject(format!("[Modgate] {summary}"))
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(format!(
                "{summary}\n\nOpen: {link}\n\nEvent: {} ({})\n\nYou receive this because you take part in this module's review. \
                 Choose which notifications you get under Account → Notifications.\n",
                d.event, d.event_id
            )),
        (Err(e), _) => return (None, Some(format!("mail_from is not an address: {e}"))),
        (_, Err(e)) => return (None, Some(format!("recipient is not an address: {e}"))),
    };
    let msg = match msg {
        Ok(m) => m,
        Err(e) => return (None, Some(format!("cannot build the email: {e}"))),
    };
    let transport = match AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose()) {
        Ok(b) => b.timeout(Some(SEND_TIMEOUT)).build(),
        Err(e) => return (None, Some(format!("smtp_url: {e}"))),
    };
    match transport.send(msg).await {
        Ok(r) => (Some(i64::from(u16::from(r.code()))), None),
        Err(e) => (
            e.status().map(|c| i64::from(u16::from(c))),
            Some(format!("the SMTP server refused: {e}")),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_a_second_and_stops_at_the_limit() {
        assert_eq!(retry_at(0, 1, 8), Some(1000));
        assert_eq!(retry_at(0, 2, 8), Some(2000));
        assert_eq!(retry_at(0, 3, 8), Some(4000));
        assert_eq!(retry_at(0, 7, 8), Some(64_000));
        assert_eq!(retry_at(0, 8, 8), None);
        assert_eq!(retry_at(0, 1, 1), None);
        assert_eq!(retry_at(0, 29, 30), Some(MAX_BACKOFF_MS));
    }
}

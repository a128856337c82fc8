//! Webhook subscriptions (administrators) and how deliveries are signed: Standard
//! Webhooks 1.0 (standardwebhooks.com), so receivers verify with an off-the-shelf
//! library. The signing secret is generated here, shown once, and kept sealed.

use crate::error::{AppError, AppResult, FieldErrors};
use crate::notifications::EVENTS;
use crate::time::rfc3339;
use crate::{App, Caller};
use access::Permission;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::json;
use sha2::Sha256;
use store::audit::{self, Outcome};
use store::webhooks::Webhook;
use store::{new_id, now_ms};

const SEAL_PURPOSE: &str = "webhook-secret";
/// How long the previous secret keeps signing after a rotation.
pub const ROTATION_OVERLAP_MS: i64 = 24 * 3600 * 1000;

/// A fresh secret: `whsec_` + base64 of 32 random bytes.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` under `secret`; `None` when
/// the secret is not a `whsec_` secret.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix("whsec_")?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// A webhook as administrators see it (never its secret).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    /// Empty: every event.
    pub events: Vec<String>,
    pub enabled: bool,
    /// Until when deliveries also carry the previous secret's signature.
    pub previous_secret_until: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Webhook> for WebhookView {
    fn from(w: Webhook) -> Self {
        WebhookView {
            id: w.id,
            url: w.url,
            events: w.events,
            enabled: w.enabled,
            previous_secret_until: w.previous_until.filter(|t| *t > now_ms()).map(rfc3339),
            created_by: w.created_by,
            created_at: rfc3339(w.created_at),
            updated_at: rfc3339(w.updated_at),
        }
    }
}

/// The one response that shows the secret: on creation and on rotation.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// `whsec_…`: shown once; keep it where the receiver can read it.
    pub secret: String,
}

/// What an administrator sets; `None` keeps a value on update.
#[derive(Debug, Clone, Default)]
pub struct WebhookInput {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

fn check(input: &WebhookInput, errs: &mut FieldErrors) {
    if let Some(u) = &input.url {
        match url::Url::parse(u.trim()) {
            Ok(p) if matches!(p.scheme(), "http" | "https") && p.host().is_some() => {}
            Ok(_) => errs.add("url", "must be an http:// or https:// URL with a host"),
            Err(e) => errs.add("url", format!("is not a URL: {e}")),
        }
    }
    if let Some(events) = &input.events {
        for (i, e) in events.iter().enumerate() {
            if !EVENTS.contains(&e.as_str()) {
                errs.add(
                    &format!("events[{i}]"),
                    format!("'{e}' is not an event (one of: {})", EVENTS.join(", ")),
                );
            }
        }
    }
}

fn seal(app: &App, id: &str, secret: &str) -> String {
    app.secret.seal(SEAL_PURPOSE, id, secret)
}

/// The secrets a delivery is signed with now: the current one and, within a day of a
/// rotation, the previous one.
pub fn signing_secrets(app: &App, w: &Webhook) -> AppResult<Vec<String>> {
    let open = |sealed: &str| {
        app.secret
            .open(SEAL_PURPOSE, &w.id, sealed)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("webhook {}: {e}", w.id)))
    };
    let mut out = vec![open(&w.secret)?];
    if let (Some(prev), Some(until)) = (&w.previous_secret, w.previous_until)
        && until > now_ms()
    {
        out.push(open(prev)?);
    }
    Ok(out)
}

pub async fn list(app: &App, by: &Caller) -> AppResult<Vec<WebhookView>> {
    by.require(Permission::WebhooksManage)?;
    Ok(store::webhooks::list(&app.db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

async fn find(app: &App, id: &str) -> AppResult<Webhook> {
    store::webhooks::get(&app.db, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("webhook {id}")))
}

pub async fn create(app: &App, by: &Caller, input: WebhookInput) -> AppResult<WebhookWithSecret> {
    by.require(Permission::WebhooksManage)?;
    let mut errs = FieldErrors::default();
    if input.url.is_none() {
        errs.add("url", "is required");
    }
    check(&input, &mut errs);
    errs.into_result()?;
    let id = new_id();
    let secret = new_secret();
    let now = now_ms();
    let w = Webhook {
        id: id.clone(),
        url: input.url.unwrap_or_default().trim().to_owned(),
        events: input.events.unwrap_or_default(),
        enabled: input.enabled.unwrap_or(true),
        secret: seal(app, &id, &secret),
        previous_secret: None,
        previous_until: None,
        created_by: by.username.clone(),
        created_at: now,
        updated_at: now,
    };
    let mut tx = app.db.begin().await?;
    store::webhooks::insert(&mut tx, &w).await?;
    let mut e = by.audit("webhook.create", Outcome::Success);
    e.resource_type = Some("webhook".into());
    e.resource_id = Some(id.clone());
    e.details = json!({ "url": w.url, "events": w.events, "enabled": w.enabled });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(WebhookWithSecret {
        webhook: w.into(),
        secret,
    })
}

pub async fn update(
    app: &App,
    by: &Caller,
    id: &str,
    input: WebhookInput,
) -> AppResult<WebhookView> {
    by.require(Permission::WebhooksManage)?;
    let mut w = find(app, id).await?;
    let mut errs = FieldErrors::default();
    check(&input, &mut errs);
    errs.into_result()?;
    if let Some(u) = input.url {
        w.url = u.trim().to_owned();
    }
    if let Some(ev) = input.events {
        w.events = ev;
    }
    if let Some(en) = input.enabled {
        w.enabled = en;
    }
    let mut tx = app.db.begin().await?;
    store::webhooks::update(&mut tx, &w).await?;
    let mut e = by.audit("webhook.update", Outcome::Success);
    e.resource_type = Some("webhook".into());
    e.resource_id = Some(id.to_owned());
    e.details = json!({ "url": w.url, "events": w.events, "enabled": w.enabled });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(find(app, id).await?.into())
}

pub async fn delete(app: &App, by: &Caller, id: &str) -> AppResult<()> {
    by.require(Permission::WebhooksManage)?;
    let w = find(app, id).await?;
    let mut tx = app.db.begin().await?;
    if !store::webhooks::delete(&mut tx, id).await? {
        return Err(AppError::not_found(format!("webhook {id}")));
    }
    let mut e = by.audit("webhook.delete", Outcome::Success);
    e.resource_type = Some("webhook".into());
    e.resource_id = Some(id.to_owned());
    e.details = json!({ "url": w.url });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(())
}

/// A new secret, shown once; for a day deliveries carry both signatures.
pub async fn rotate_secret(app: &App, by: &Caller, id: &str) -> AppResult<WebhookWithSecret> {
    by.require(Permission::WebhooksManage)?;
    let w = find(app, id).await?;
    let secret = new_secret();
    let until = now_ms() + ROTATION_OVERLAP_MS;
    let mut tx = app.db.begin().await?;
    store::webhooks::rotate(&mut tx, id, &seal(app, id, &secret), &w.secret, until).await?;
    let mut e = by.audit("webhook.rotate_secret", Outcome::Success);
    e.resource_type = Some("webhook".into());
    e.resource_id = Some(id.to_owned());
    e.details = json!({ "previousValidUntil": rfc3339(until) });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(WebhookWithSecret {
        webhook: find(app, id).await?.into(),
        secret,
    })
}

/// A delivery with its attempts.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    pub id: String,
    /// The `webhook-id` header: the same on every attempt.
    pub event_id: String,
    pub event: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: Vec<AttemptView>,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    pub attempt: i64,
    pub at: String,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// The webhook's latest deliveries, newest first.
pub async fn deliveries(app: &App, by: &Caller, id: &str) -> AppResult<Vec<DeliveryView>> {
    by.require(Permission::WebhooksManage)?;
    find(app, id).await?;
    Ok(store::deliveries::for_webhook(&app.db, id, 100)
        .await?
        .into_iter()
        .map(|(d, attempts)| DeliveryView {
            next_attempt_at: (d.status == store::deliveries::DeliveryStatus::Pending)
                .then(|| rfc3339(d.next_at)),
            id: d.id,
            event_id: d.event_id,
            event: d.event,
            status: d.status.to_string(),
            attempts: attempts
                .into_iter()
                .map(|a| AttemptView {
                    attempt: a.attempt,
                    at: rfc3339(a.at),
                    status_code: a.status_code,
                    error: a.error,
                    duration_ms: a.duration_ms,
                })
                .collect(),
            created_at: rfc3339(d.created_at),
            delivered_at: d.delivered_at.map(rfc3339),
        })
        .collect())
}

/// Sends a delivered or failed delivery once more, now.
pub async fn redeliver(app: &App, by: &Caller, id: &str, delivery: &str) -> AppResult<()> {
    by.require(Permission::WebhooksManage)?;
    find(app, id).await?;
    let d = store::deliveries::get(&app.db, delivery)
        .await?
        .filter(|d| d.webhook_id.as_deref() == Some(id))
        .ok_or_else(|| AppError::not_found(format!("delivery {delivery} of webhook {id}")))?;
    let mut tx = app.db.begin().await?;
    if !store::deliveries::redeliver(&mut tx, &d.id).await? {
        return Err(AppError::conflict(format!(
            "delivery {delivery} is pending already; it goes out at its next attempt"
        )));
    }
    let mut e = by.audit("webhook.redeliver", Outcome::Success);
    e.resource_type = Some("webhook".into());
    e.resource_id = Some(id.to_owned());
    e.details = json!({ "delivery": d.id, "event": d.event, "eventId": d.event_id });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    app.signals.announced(std::iter::empty());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn signs_as_standard_webhooks_does() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
        assert_eq!(signature("nope", "x", 1, ""), None);
        let s = new_secret();
        assert!(s.starts_with("whsec_") && STANDARD.decode(&s[6..]).unwrap().len() == 32);
    }
}

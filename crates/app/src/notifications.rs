//! Telling people what happened: one announcement per state change becomes in-app
//! notifications for the people concerned, emails to those with an address, and
//! webhook deliveries — all written in the transaction of the change, so an event is
//! announced exactly when it happened. The delivery workers ([`crate::deliveries`])
//! send what the outbox holds.

use crate::error::{AppError, AppResult, FieldErrors};
use crate::time::rfc3339;
use crate::{App, Caller};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use store::deliveries::{Channel, Delivery, DeliveryStatus};
use store::notifications::Notification;
use store::users::User;
use store::{Tx, new_id, now_ms};
use tokio::sync::{Notify, broadcast};

/// Every event a notification can be about.
pub const EVENTS: &[&str] = &[
    "review.submitted",
    "review.assigned",
    "review.claimed",
    "review.commented",
    "review.approved",
    "review.rejected",
    "review.withdrawn",
    "review.superseded",
    "module.published",
    "module.unpublished",
    "module.rolled_back",
    "spec.restored",
    "budget.warning",
];

/// The channels a user chooses per event (webhooks are the administrators').
pub const CHANNELS: &[&str] = &["in_app", "email"];

/// Wakes the delivery workers and the live unread counts after a commit on this
/// replica; other replicas notice by polling.
pub struct Signals {
    outbox: Notify,
    inbox: broadcast::Sender<String>,
}

impl Default for Signals {
    fn default() -> Self {
        Signals {
            outbox: Notify::new(),
            inbox: broadcast::channel(256).0,
        }
    }
}

impl Signals {
    /// Something was announced: deliveries may be due and unread counts changed.
    pub fn announced(&self, users: impl IntoIterator<Item = String>) {
        self.outbox.notify_one();
        for u in users {
            let _ = self.inbox.send(u);
        }
    }

    /// Completes when something may be due in the outbox.
    pub async fn outbox_changed(&self) {
        self.outbox.notified().await
    }

    /// The ids of users whose notifications change, as they change here.
    pub fn inbox(&self) -> broadcast::Receiver<String> {
        self.inbox.subscribe()
    }

    pub(crate) fn user_changed(&self, user_id: &str) {
        let _ = self.inbox.send(user_id.to_owned());
    }
}

/// What happened, to whom it matters.
pub struct Announcement {
    pub event: &'static str,
    /// Who acted (left out of the recipients).
    pub actor: String,
    pub module_id: String,
    pub module_name: String,
    pub version: i64,
    /// `{"id", "status", "reason"?}` of the review concerned.
    pub review: Option<Value>,
    /// Usernames of the people concerned.
    pub recipients: BTreeSet<String>,
    /// More of the event, merged into the payload (a budget warning's `budget`).
    pub extra: Option<Value>,
}

/// What an announcement wrote, for [`Signals::announced`] after the commit.
#[derive(Debug, Default)]
pub struct Announced {
    pub event_id: String,
    pub user_ids: Vec<String>,
}

/// Writes the announcement's notifications and deliveries in `tx`. `people` are the
/// platform's users (see [`people`]).
pub async fn announce(
    app: &App,
    tx: &mut Tx,
    people: &[User],
    a: Announcement,
) -> AppResult<Announced> {
    let event_id = format!("msg_{}", new_id().replace('-', ""));
    let now = now_ms();
    let mut payload = json!({
        "id": event_id, "event": a.event, "occurredAt": rfc3339(now), "actor": a.actor,
        "module": { "id": a.module_id, "name": a.module_name }, "version": a.version,
    });
    // Events about the whole spec (a restore) concern no one module.
    if a.module_id.is_empty()
        && let Some(o) = payload.as_object_mut()
    {
        o.remove("module");
    }
    if let Some(r) = a.review {
        payload["review"] = r;
    }
    if let (Some(Value::Object(extra)), Some(p)) = (a.extra, payload.as_object_mut()) {
        p.extend(extra);
    }
    let text = payload.to_string();
    let no_in_app = store::notifications::opted_out_in(tx, a.event, "in_app").await?;
    let no_email = store::notifications::opted_out_in(tx, a.event, "email").await?;
    let mail = app.config.smtp_url.is_some();
    let mut user_ids = Vec::new();
    for u in people
        .iter()
        .filter(|u| u.active && u.username != a.actor && a.recipients.contains(&u.username))
    {
        if !no_in_app.contains(&u.id) {
            store::notifications::insert(
                tx,
                &Notification {
                    id: new_id(),
                    user_id: u.id.clone(),
                    event_id: event_id.clone(),
                    event: a.event.to_owned(),
                    payload: text.clone(),
                    read_at: None,
                    created_at: now,
                },
            )
            .await?;
            user_ids.push(u.id.clone());
        }
        if let (true, Some(addr)) = (mail, &u.email)
            && !no_email.contains(&u.id)
        {
            store::deliveries::enqueue(
                tx,
                &delivery(
                    &event_id,
                    a.event,
                    Channel::Email,
                    None,
                    Some(addr),
                    &text,
                    now,
                ),
            )
            .await?;
        }
    }
    for w in store::webhooks::list_in(tx).await? {
        if w.wants(a.event) {
            store::deliveries::enqueue(
                tx,
                &delivery(
                    &event_id,
                    a.event,
                    Channel::Webhook,
                    Some(&w.id),
                    None,
                    &text,
                    now,
                ),
            )
            .await?;
        }
    }
    Ok(Announced { event_id, user_ids })
}

fn delivery(
    event_id: &str,
    event: &str,
    channel: Channel,
    webhook_id: Option<&str>,
    recipient: Option<&str>,
    payload: &str,
    now: i64,
) -> Delivery {
    Delivery {
        id: new_id(),
        event_id: event_id.to_owned(),
        event: event.to_owned(),
        channel,
        webhook_id: webhook_id.map(str::to_owned),
        recipient: recipient.map(str::to_owned),
        payload: payload.to_owned(),
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_at: now,
        last_status: None,
        last_error: None,
        created_at: now,
        delivered_at: None,
    }
}

/// The platform's active users (the people announcements may reach).
pub async fn people(app: &App) -> AppResult<Vec<User>> {
    Ok(store::users::list(&app.db)
        .await?
        .into_iter()
        .filter(|u| u.active)
        .collect())
}

/// A notification as its recipient sees it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NotificationView {
    pub id: String,
    pub event: String,
    /// The event as webhooks receive it.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: Value,
    /// A one-line description.
    pub summary: String,
    /// The page to open.
    pub link: String,
    pub read: bool,
    pub created_at: String,
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        let payload: Value = serde_json::from_str(&n.payload).unwrap_or(Value::Null);
        NotificationView {
            summary: summary(&payload),
            link: link(&payload),
            id: n.id,
            event: n.event,
            payload,
            read: n.read_at.is_some(),
            created_at: rfc3339(n.created_at),
        }
    }
}

/// "alice approved version 3 of Loyalty Points".
pub fn summary(p: &Value) -> String {
    let verb = match p["event"].as_str().unwrap_or("") {
        "review.submitted" => "submitted for review",
        "review.assigned" => "assigned reviewers to",
        "review.claimed" => "claimed the review of",
        "review.commented" => "commented on",
        "review.approved" => "approved",
        "review.rejected" => "rejected",
        "review.withdrawn" => "withdrew from review",
        "review.superseded" => "saved a newer version, superseding the review of",
        "module.published" => "published",
        "module.unpublished" => "unpublished",
        "module.rolled_back" => "rolled back to",
        "budget.warning" => {
            let b = &p["budget"];
            return format!(
                "{} is at {}% for {}: {}",
                b["name"].as_str().unwrap_or("a budget"),
                b["percent"],
                b["month"].as_str().unwrap_or("this month"),
                b["spent"].as_str().unwrap_or("")
            );
        }
        "spec.restored" => {
            return format!(
                "{} restored an earlier set of published modules (spec version {})",
                p["actor"].as_str().unwrap_or("someone"),
                p["version"]
            );
        }
        other => other,
    };
    let mut s = format!(
        "{} {verb} version {} of {}",
        p["actor"].as_str().unwrap_or("someone"),
        p["version"],
        p["module"]["name"].as_str().unwrap_or("a module")
    );
    if let Some(r) = p["review"]["reason"].as_str() {
        s.push_str(": ");
        s.push_str(r);
    }
    s
}

/// The page an event is about.
pub fn link(p: &Value) -> String {
    if p["event"] == "budget.warning" {
        return "/admin/ai-usage".into();
    }
    if p["event"]
        .as_str()
        .is_some_and(|e| e.starts_with("module.") || e.starts_with("spec."))
    {
        return "/admin/ai-modules/publish".into();
    }
    match p["review"]["id"].as_str() {
        Some(id) => format!("/admin/ai-modules/review/{id}"),
        None => format!(
            "/admin/ai-modules/develop/{}",
            p["module"]["id"].as_str().unwrap_or("")
        ),
    }
}

/// The caller's notifications, newest first.
pub async fn list(app: &App, by: &Caller, unread: bool) -> AppResult<Vec<NotificationView>> {
    Ok(store::notifications::list(&app.db, &by.id, unread, 100)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// The caller's unread count and newest notification's id.
pub async fn unread(app: &App, by: &Caller) -> AppResult<(i64, Option<String>)> {
    Ok(store::notifications::unread(&app.db, &by.id).await?)
}

pub async fn mark_read(app: &App, by: &Caller, id: &str) -> AppResult<()> {
    match store::notifications::mark_read(&app.db, &by.id, id).await? {
        None => Err(AppError::not_found(format!("notification {id}"))),
        Some(_) => {
            app.signals.user_changed(&by.id);
            Ok(())
        }
    }
}

/// Marks every notification read; how many were unread.
pub async fn mark_all_read(app: &App, by: &Caller) -> AppResult<u64> {
    let n = store::notifications::mark_all_read(&app.db, &by.id).await?;
    app.signals.user_changed(&by.id);
    Ok(n)
}

/// One event's channels for a user.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Preference {
    pub event: String,
    pub in_app: bool,
    pub email: bool,
}

/// Every event with the caller's choice (on unless turned off).
pub async fn preferences(app: &App, by: &Caller) -> AppResult<Vec<Preference>> {
    let off = store::notifications::preferences(&app.db, &by.id).await?;
    let on = |event: &str, channel: &str| {
        !off.iter()
            .any(|(e, c, enabled)| e == event && c == channel && !enabled)
    };
    Ok(EVENTS
        .iter()
        .map(|e| Preference {
            event: (*e).to_owned(),
            in_app: on(e, "in_app"),
            email: on(e, "email"),
        })
        .collect())
}

/// Replaces the caller's choices; events not listed go back to on.
pub async fn set_preferences(
    app: &App,
    by: &Caller,
    prefs: &[Preference],
) -> AppResult<Vec<Preference>> {
    let mut errs = FieldErrors::default();
    let mut seen = BTreeSet::new();
    for (i, p) in prefs.iter().enumerate() {
        if !EVENTS.contains(&p.event.as_str()) {
            errs.add(
                &format!("preferences[{i}].event"),
                format!(
                    "'{}' is not an event (one of: {})",
                    p.event,
                    EVENTS.join(", ")
                ),
            );
        } else if !seen.insert(p.event.clone()) {
            errs.add(&format!("preferences[{i}].event"), "is listed twice");
        }
    }
    errs.into_result()?;
    let rows: Vec<(String, String, bool)> = prefs
        .iter()
        .flat_map(|p| {
            [
                (p.event.clone(), "in_app".to_owned(), p.in_app),
                (p.event.clone(), "email".to_owned(), p.email),
            ]
        })
        .filter(|(_, _, on)| !on)
        .collect();
    let mut tx = app.db.begin().await?;
    store::notifications::set_preferences(&mut tx, &by.id, &rows).await?;
    let mut e = by.audit("notification.preferences", store::audit::Outcome::Success);
    e.resource_type = Some("user".into());
    e.resource_id = Some(by.id.clone());
    e.details =
        json!({ "off": rows.iter().map(|(e, c, _)| format!("{e}:{c}")).collect::<Vec<_>>() });
    store::audit::append(&mut tx, e).await?;
    tx.commit().await?;
    preferences(app, by).await
}

//! Live previews (docs/review.md): the CRM with one module version applied, on
//! production data, without touching production. A preview is a session held by
//! this server: the candidate spec (the live spec with the version in place of the
//! module's published one) and an overlay the session's writes go to
//! ([`runtime::OverlayStore`]). Its token is unguessable, tied to the person who
//! opened it, and expires.

use crate::error::{AppError, AppResult};
use crate::records::Records;
use crate::time::rfc3339;
use crate::{App, Caller};
use access::Permission;
use runtime::SharedLayer;
use serde::Serialize;
use serde_json::json;
use spec::Spec;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use store::audit::{self, Outcome};
use store::now_ms;

/// Previews one person may have open at once; the oldest goes first.
const PER_USER: usize = 10;

/// One open preview.
#[derive(Debug)]
pub struct Session {
    pub user_id: String,
    pub module_id: String,
    pub module_name: String,
    pub version: i64,
    pub spec: Arc<Spec>,
    pub layer: SharedLayer,
    pub created_at: i64,
    pub expires_at: i64,
}

/// The open previews of this server, by token.
#[derive(Debug, Default)]
pub struct Previews {
    sessions: Mutex<HashMap<String, Arc<Session>>>,
}

impl Previews {
    fn open(&self, token: String, s: Session) {
        let now = now_ms();
        let mut all = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|_, x| x.expires_at > now);
        let mut mine: Vec<(String, i64)> = all
            .iter()
            .filter(|(_, x)| x.user_id == s.user_id)
            .map(|(t, x)| (t.clone(), x.created_at))
            .collect();
        mine.sort_by_key(|(_, at)| *at);
        while mine.len() >= PER_USER {
            let (oldest, _) = mine.remove(0);
            all.remove(&oldest);
        }
        all.insert(token, Arc::new(s));
    }

    /// The session behind `token` if it is `user_id`'s and still open at `now`.
    fn live(&self, token: &str, user_id: &str, now: i64) -> Option<Arc<Session>> {
        let all = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        all.get(token)
            .filter(|s| s.user_id == user_id && s.expires_at > now)
            .cloned()
    }
}

/// What opening a preview answers.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PreviewView {
    /// Unguessable; works only for the person who opened the preview.
    pub token: String,
    /// The preview's first page.
    pub url: String,
    /// RFC 3339.
    pub expires_at: String,
    pub module_id: String,
    pub module_name: String,
    pub version: i64,
}

/// Who may open previews: those who develop, test or review modules.
pub const PREVIEWERS: &[Permission] = &[
    Permission::ModulesDevelop,
    Permission::ModulesTest,
    Permission::ModulesReview,
];

fn require_previewer(by: &Caller) -> AppResult<()> {
    if PREVIEWERS.iter().any(|p| by.can(*p)) {
        return Ok(());
    }
    by.require(Permission::ModulesDevelop)
}

/// Opens a preview of version `n` of the module.
pub async fn start(app: &App, by: &Caller, module_id: &str, n: i64) -> AppResult<PreviewView> {
    require_previewer(by)?;
    let module = store::modules::get(&app.db, module_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("module {module_id}")))?;
    let version = store::modules::version(&app.db, module_id, n)
        .await?
        .ok_or_else(|| AppError::not_found(format!("version {n} of module {module_id}")))?;
    if !version.valid {
        return Err(AppError::conflict(format!(
            "version {n} of {} is invalid: fix it before previewing it",
            module.name
        )));
    }
    let without = crate::live::for_module(app, module_id).await?;
    let doc = patch::parse(version.patch.as_bytes()).map_err(|r| {
        AppError::conflict(format!(
            "version {n} cannot be read: {}",
            r.errors.first().map_or("", |e| e.message.as_str())
        ))
    })?;
    // The live spec may have moved on since the version was validated.
    let spec = patch::apply(&without, &doc).map_err(|r| {
        AppError::conflict(format!(
            "version {n} no longer applies to the live spec: {}",
            r.errors.first().map_or("", |e| e.message.as_str())
        ))
    })?;
    let token = crate::credentials::random_token();
    let now = now_ms();
    let expires_at = now + app.config.preview_ttl_mins as i64 * 60_000;
    app.previews.open(
        token.clone(),
        Session {
            user_id: by.id.clone(),
            module_id: module.id.clone(),
            module_name: module.name.clone(),
            version: n,
            spec: Arc::new(spec),
            layer: SharedLayer::default(),
            created_at: now,
            expires_at,
        },
    );
    let mut e = by.audit("module.preview", Outcome::Success);
    e.resource_type = Some("module".into());
    e.resource_id = Some(module.id.clone());
    e.details = json!({ "name": module.name, "version": n, "expiresAt": rfc3339(expires_at) });
    let mut tx = app.db.begin().await?;
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(PreviewView {
        url: format!("/preview/{token}/"),
        token,
        expires_at: rfc3339(expires_at),
        module_id: module.id,
        module_name: module.name,
        version: n,
    })
}

/// The caller's open preview. Unknown, expired and other people's tokens are all
/// "not found": a token says nothing about previews one may not see.
pub fn session(app: &App, by: &Caller, token: &str) -> AppResult<Arc<Session>> {
    app.previews
        .live(token, &by.id, now_ms())
        .ok_or_else(|| AppError::not_found("this preview (it may have expired)"))
}

/// The preview's records as the caller may see and change them: the candidate spec,
/// production data to read, the session's overlay to write.
pub fn records(app: &App, by: &Caller, token: &str) -> AppResult<(Records, Arc<Session>)> {
    let s = session(app, by, token)?;
    Ok((
        Records::preview(app, by, s.spec.clone(), s.layer.clone()),
        s,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(user: &str, created_at: i64, expires_at: i64) -> Session {
        Session {
            user_id: user.into(),
            module_id: "m".into(),
            module_name: "Loyalty".into(),
            version: 1,
            spec: Arc::new(spec::base_spec()),
            layer: SharedLayer::default(),
            created_at,
            expires_at,
        }
    }

    #[test]
    fn a_token_works_for_its_owner_until_it_expires() {
        let p = Previews::default();
        let now = now_ms();
        p.open("t1".into(), session("ann", now, now + 60_000));
        assert!(p.live("t1", "ann", now).is_some());
        assert!(p.live("t1", "bob", now).is_none(), "someone else's token");
        assert!(p.live("t1", "ann", now + 60_000).is_none(), "expired");
        assert!(p.live("t2", "ann", now).is_none(), "unknown");
    }

    #[test]
    fn each_person_keeps_their_newest_previews() {
        let p = Previews::default();
        let now = now_ms();
        for i in 0..(PER_USER as i64 + 2) {
            p.open(format!("t{i}"), session("ann", now + i, now + 60_000));
        }
        p.open("other".into(), session("bob", now, now + 60_000));
        assert!(p.live("t0", "ann", now).is_none() && p.live("t1", "ann", now).is_none());
        assert!(p.live(&format!("t{}", PER_USER + 1), "ann", now).is_some());
        assert!(
            p.live("other", "bob", now).is_some(),
            "one person's previews do not push out another's"
        );
    }
}

//! Modules and their versions: the rules behind the API, the pages and the gateway.
//! Every save — by a person, by the model, or a restore — goes through
//! [`save_version`], which validates and dry-runs the patch against the live spec.

use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::http::extract::RequestMeta;
use crate::http::users::api::rfc3339;
use crate::http::users::service::FieldErrors;
use crate::state::AppState;
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use store::audit::{self, Outcome};
use store::modules::{Module, NewVersion, SaveError, Version};
use store::{StoreError, new_id, now_ms};

/// Who made a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Ai,
    Manual,
    Restore,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Ai => "ai",
            Source::Manual => "manual",
            Source::Restore => "restore",
        }
    }
}

/// A version as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionView {
    pub number: i64,
    pub content_hash: String,
    pub author: String,
    pub parent_version: Option<i64>,
    pub message: String,
    /// `ai`, `manual` or `restore`.
    pub source: String,
    pub prompt: Option<String>,
    pub model: Option<String>,
    /// `L1`, `L2` or `L3`.
    pub level: String,
    /// Invalid versions are drafts to edit; they can never be submitted.
    pub valid: bool,
    /// An L2 version a model wrote, not yet confirmed by a person.
    pub needs_confirmation: bool,
    pub confirmed_by: Option<String>,
    /// Whether the version may be submitted for review as far as its content goes.
    pub submittable: bool,
    pub created_at: String,
    /// The validation report (DESIGN §4).
    #[schema(value_type = Object)]
    pub report: Value,
    /// The patch document (or the text as saved, when it is not JSON).
    #[schema(value_type = Object)]
    pub patch: Value,
}

impl From<Version> for VersionView {
    fn from(v: Version) -> Self {
        let unconfirmed = v.needs_confirmation && v.confirmed_by.is_none();
        VersionView {
            number: v.number,
            content_hash: v.content_hash,
            author: v.author,
            parent_version: v.parent_version,
            message: v.message,
            source: v.source,
            prompt: v.prompt,
            model: v.model,
            submittable: v.valid && v.level != "L3" && !unconfirmed,
            level: v.level,
            valid: v.valid,
            needs_confirmation: unconfirmed,
            confirmed_by: v.confirmed_by,
            created_at: rfc3339(v.created_at),
            report: serde_json::from_str(&v.report).unwrap_or(Value::Null),
            patch: serde_json::from_str(&v.patch).unwrap_or(Value::String(v.patch)),
        }
    }
}

/// A module as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModuleView {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub status: String,
    /// `null`: the default model.
    pub model_id: Option<String>,
    pub model_name: Option<String>,
    pub owner: String,
    pub current_version: i64,
    pub created_at: String,
    pub updated_at: String,
}

pub async fn view(state: &AppState, m: Module) -> Result<ModuleView, ApiError> {
    let model_name = match &m.model_id {
        Some(id) => store::models::get(&state.db, id).await?.map(|x| x.name),
        None => None,
    };
    Ok(ModuleView {
        id: m.id,
        name: m.name,
        slug: m.slug,
        description: m.description,
        status: m.status,
        model_id: m.model_id,
        model_name,
        owner: m.owner,
        current_version: m.current_version,
        created_at: rfc3339(m.created_at),
        updated_at: rfc3339(m.updated_at),
    })
}

pub async fn get(state: &AppState, id: &str) -> Result<Module, ApiError> {
    store::modules::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("module {id}")))
}

/// A URL-safe slug: ASCII words joined by `-`; names without ASCII letters get one
/// from the id.
fn slug_of(name: &str, id: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    let s = s.trim_matches('-').to_owned();
    if s.is_empty() {
        format!("module-{}", &id[id.len().saturating_sub(8)..])
    } else {
        s.chars().take(60).collect()
    }
}

fn parse_name(raw: &str, errs: &mut FieldErrors) -> Option<String> {
    let n = raw.trim();
    if n.is_empty() {
        errs.add("name", "is required");
        None
    } else if n.chars().count() > 80 || n.chars().any(char::is_control) {
        errs.add(
            "name",
            "must be at most 80 characters, without control characters",
        );
        None
    } else {
        Some(n.to_owned())
    }
}

fn parse_description(raw: &str, errs: &mut FieldErrors) -> Option<String> {
    if raw.chars().count() > 2000 {
        errs.add("description", "must be at most 2000 characters");
        None
    } else {
        Some(raw.trim().to_owned())
    }
}

async fn check_model(state: &AppState, id: &str, errs: &mut FieldErrors) -> Result<(), ApiError> {
    if store::models::get(&state.db, id).await?.is_none() {
        errs.add("modelId", format!("no model with id '{id}'"));
    }
    Ok(())
}

fn slug_conflict(name: &str) -> impl FnOnce(StoreError) -> ApiError + '_ {
    move |e| match e {
        StoreError::Conflict(_) => {
            ApiError::conflict(format!("a module named '{name}' already exists"))
                .with_details(json!({ "fields": [{ "field": "name", "message": "is taken" }] }))
        }
        e => e.into(),
    }
}

pub async fn create(
    state: &AppState,
    actor: &CurrentUser,
    meta: &RequestMeta,
    name: &str,
    description: Option<&str>,
    model_id: Option<&str>,
) -> Result<Module, ApiError> {
    let mut errs = FieldErrors::default();
    let name = parse_name(name, &mut errs);
    let description = parse_description(description.unwrap_or(""), &mut errs);
    if let Some(m) = model_id {
        check_model(state, m, &mut errs).await?;
    }
    errs.into_result()?;
    let (name, description) = (name.expect("checked"), description.expect("checked"));
    let id = new_id();
    let now = now_ms();
    let m = Module {
        slug: slug_of(&name, &id),
        id,
        name,
        description,
        status: "draft".into(),
        model_id: model_id.map(str::to_owned),
        owner: actor.username.clone(),
        current_version: 0,
        created_at: now,
        updated_at: now,
    };
    let mut tx = state.db.begin().await?;
    store::modules::insert(&mut tx, &m)
        .await
        .map_err(slug_conflict(&m.name))?;
    let mut e = meta.audit(Some(&actor.username), "module.create", Outcome::Success);
    e.resource_type = Some("module".into());
    e.resource_id = Some(m.id.clone());
    e.details = json!({ "name": m.name, "modelId": m.model_id });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(m)
}

pub async fn update(
    state: &AppState,
    actor: &CurrentUser,
    meta: &RequestMeta,
    id: &str,
    name: Option<&str>,
    description: Option<&str>,
    model_id: Option<Option<&str>>,
) -> Result<Module, ApiError> {
    let mut m = get(state, id).await?;
    let before = m.clone();
    let mut errs = FieldErrors::default();
    if let Some(n) = name
        && let Some(n) = parse_name(n, &mut errs)
    {
        m.slug = slug_of(&n, &m.id);
        m.name = n;
    }
    if let Some(d) = description
        && let Some(d) = parse_description(d, &mut errs)
    {
        m.description = d;
    }
    if let Some(mid) = model_id {
        if let Some(x) = mid {
            check_model(state, x, &mut errs).await?;
        }
        m.model_id = mid.map(str::to_owned);
    }
    errs.into_result()?;
    let mut tx = state.db.begin().await?;
    store::modules::update_details(&mut tx, &m)
        .await
        .map_err(slug_conflict(&m.name))?;
    let mut e = meta.audit(Some(&actor.username), "module.update", Outcome::Success);
    e.resource_type = Some("module".into());
    e.resource_id = Some(id.to_owned());
    e.details = json!({ "name": m.name,
        "changes": { "name": [before.name, m.name], "description": before.description != m.description,
                     "modelId": [before.model_id, m.model_id] } });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    get(state, id).await
}

/// A save request, from a person's edit, the gateway or a restore.
#[derive(Debug, Clone)]
pub struct SaveInput {
    pub patch: String,
    pub message: String,
    /// The version the edit started from (0 for a module's first version).
    pub base_version: i64,
    pub confirm_l2: bool,
    pub source: Source,
    pub prompt: Option<String>,
    pub model: Option<String>,
}

pub fn content_hash(patch: &str) -> String {
    // The hash is of the compact JSON when the patch is JSON, so whitespace-only
    // edits do not make a "different" version.
    let canonical = serde_json::from_str::<Value>(patch)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| patch.to_owned());
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// Validates, dry-runs and saves a new version. Invalid (and L3) patches are kept as
/// drafts marked invalid; an L2 patch saved by a person needs `confirm_l2`; one a
/// model wrote is saved unconfirmed.
pub async fn save_version(
    state: &AppState,
    actor: &CurrentUser,
    meta: &RequestMeta,
    module_id: &str,
    input: SaveInput,
) -> Result<VersionView, ApiError> {
    let message = input.message.trim();
    if message.is_empty() {
        return Err(ApiError::invalid(
            "message",
            "say what this version changes",
        ));
    }
    if message.chars().count() > 500 {
        return Err(ApiError::invalid(
            "message",
            "must be at most 500 characters",
        ));
    }
    if input.patch.trim().is_empty() {
        return Err(ApiError::invalid("patch", "is empty"));
    }
    if input.base_version < 0 {
        return Err(ApiError::invalid(
            "baseVersion",
            "must be 0 or a version number",
        ));
    }
    get(state, module_id).await?;
    let spec = state.live.get().spec.clone();
    let dry = patch::dry_run(&spec, input.patch.as_bytes());
    let report = dry.report;
    let valid = report.valid;
    let l2 = valid && report.level == patch::Level::L2;
    if l2 && input.source != Source::Ai && !input.confirm_l2 {
        let ops: Vec<String> = report
            .operations
            .iter()
            .filter(|o| o.level == patch::Level::L2)
            .map(|o| format!("#{} {}", o.op, o.summary))
            .collect();
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "confirmation_required",
            format!(
                "this patch is L2 — it can reject, hide or expose existing data ({}); save it with confirmL2 to confirm",
                ops.join("; ")
            ),
        )
        .with_details(json!({ "report": report })));
    }
    let new = NewVersion {
        content_hash: content_hash(&input.patch),
        patch: input.patch.clone(),
        author: actor.username.clone(),
        message: message.to_owned(),
        source: input.source.as_str().to_owned(),
        prompt: input.prompt.clone(),
        model: input.model.clone(),
        report: serde_json::to_string(&report).expect("report serialises"),
        level: report.level.to_string(),
        valid,
        needs_confirmation: l2 && input.source == Source::Ai,
    };
    let mut tx = state.db.begin().await?;
    let number = match store::modules::save_version(&mut tx, module_id, input.base_version, &new)
        .await
    {
        Ok(n) => n,
        Err(SaveError::Stale { current }) => {
            return Err(ApiError::conflict(format!(
                "the module is at version {current}, not {}: someone saved since this edit began; reload and apply your change again",
                input.base_version
            ))
            .with_details(json!({ "currentVersion": current })));
        }
        Err(SaveError::Store(e)) => return Err(e.into()),
    };
    let mut e = meta.audit(Some(&actor.username), "module.version", Outcome::Success);
    e.resource_type = Some("module".into());
    e.resource_id = Some(module_id.to_owned());
    e.details = json!({ "version": number, "source": new.source, "level": new.level, "valid": valid,
        "contentHash": new.content_hash, "confirmedL2": l2 && input.confirm_l2, "message": new.message });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    version_view(state, module_id, number).await
}

pub async fn version_view(
    state: &AppState,
    module_id: &str,
    n: i64,
) -> Result<VersionView, ApiError> {
    store::modules::version(&state.db, module_id, n)
        .await?
        .map(VersionView::from)
        .ok_or_else(|| ApiError::not_found(format!("version {n} of module {module_id}")))
}

/// Saves an old version's patch as the newest version.
pub async fn restore(
    state: &AppState,
    actor: &CurrentUser,
    meta: &RequestMeta,
    module_id: &str,
    number: i64,
    confirm_l2: bool,
) -> Result<VersionView, ApiError> {
    let m = get(state, module_id).await?;
    let old = store::modules::version(&state.db, module_id, number)
        .await?
        .ok_or_else(|| ApiError::invalid("version", format!("module has no version {number}")))?;
    save_version(
        state,
        actor,
        meta,
        module_id,
        SaveInput {
            patch: old.patch,
            message: format!("Restore version {number}"),
            base_version: m.current_version,
            confirm_l2,
            source: Source::Restore,
            prompt: None,
            model: None,
        },
    )
    .await
}

/// A person confirms an L2 version a model wrote.
pub async fn confirm(
    state: &AppState,
    actor: &CurrentUser,
    meta: &RequestMeta,
    module_id: &str,
    number: i64,
) -> Result<VersionView, ApiError> {
    let v = store::modules::version(&state.db, module_id, number)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("version {number} of module {module_id}")))?;
    if !v.needs_confirmation {
        return Err(ApiError::conflict(format!(
            "version {number} needs no confirmation (it is {}{})",
            v.level,
            if v.valid { "" } else { ", invalid" }
        )));
    }
    let mut tx = state.db.begin().await?;
    if !store::modules::confirm(&mut tx, module_id, number, &actor.username).await? {
        return Err(ApiError::conflict(format!(
            "version {number} is already confirmed"
        )));
    }
    let mut e = meta.audit(
        Some(&actor.username),
        "module.version_confirm",
        Outcome::Success,
    );
    e.resource_type = Some("module".into());
    e.resource_id = Some(module_id.to_owned());
    e.details = json!({ "version": number, "level": v.level, "contentHash": v.content_hash });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    version_view(state, module_id, number).await
}

/// The difference between two versions (0 is the empty patch).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionDiff {
    pub from: i64,
    pub to: i64,
    /// Operations in `to` that are not in `from`, and the reverse.
    #[schema(value_type = Vec<Object>)]
    pub added_operations: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub removed_operations: Vec<Value>,
    /// Unified diff of the two patch documents.
    pub patch_diff: String,
    /// Unified diff of the live spec with each applied (empty when either is invalid).
    pub spec_diff: String,
}

fn patch_of(state_spec: &spec::Spec, text: &str) -> (Vec<Value>, String, Option<spec::Spec>) {
    let v: Value = serde_json::from_str(text).unwrap_or(Value::String(text.to_owned()));
    let ops = v["operations"].as_array().cloned().unwrap_or_default();
    let pretty = serde_json::to_string_pretty(&v).unwrap_or_else(|_| text.to_owned());
    let applied = patch::check(state_spec, text.as_bytes()).spec;
    (ops, pretty, applied)
}

pub async fn diff(
    state: &AppState,
    module_id: &str,
    from: i64,
    to: i64,
) -> Result<VersionDiff, ApiError> {
    get(state, module_id).await?;
    let live = state.live.get().spec.clone();
    let load = |n: i64| async move {
        if n == 0 {
            return Ok::<String, ApiError>(
                json!({ "dsl": patch::DSL_VERSION, "title": "", "operations": [] }).to_string(),
            );
        }
        Ok(store::modules::version(&state.db, module_id, n)
            .await?
            .ok_or_else(|| {
                ApiError::invalid(
                    if n == from { "from" } else { "to" },
                    format!("module has no version {n}"),
                )
            })?
            .patch)
    };
    let (a, b) = (load(from).await?, load(to).await?);
    let (ops_a, pretty_a, spec_a) = patch_of(&live, &a);
    let (ops_b, pretty_b, spec_b) = patch_of(&live, &b);
    let patch_diff = similar::TextDiff::from_lines(&pretty_a, &pretty_b)
        .unified_diff()
        .context_radius(3)
        .header(&format!("version {from}"), &format!("version {to}"))
        .to_string();
    let spec_diff = match (&spec_a, &spec_b) {
        (Some(x), Some(y)) => patch::unified_diff(x, y),
        _ => String::new(),
    };
    Ok(VersionDiff {
        from,
        to,
        added_operations: ops_b
            .iter()
            .filter(|o| !ops_a.contains(o))
            .cloned()
            .collect(),
        removed_operations: ops_a
            .iter()
            .filter(|o| !ops_b.contains(o))
            .cloned()
            .collect(),
        patch_diff,
        spec_diff,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_hashes() {
        assert_eq!(
            slug_of("Loyalty Points!", "0190-abcdef12"),
            "loyalty-points"
        );
        assert_eq!(slug_of("积分", "0190-abcdef12"), "module-abcdef12");
        assert_eq!(content_hash("{\"a\": 1}"), content_hash("{\"a\":1}"));
        assert_ne!(content_hash("{\"a\": 1}"), content_hash("{\"a\": 2}"));
    }
}

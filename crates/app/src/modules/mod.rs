//! Modules and their versions. Every save — by a person, by the model, or a restore
//! — goes through [`save_version`], which validates and dry-runs the patch against
//! the live spec and asks the [`lifecycle`] where the module goes.

pub mod lifecycle;

use crate::error::{AppError, AppResult, FieldErrors, Problem};
use crate::time::rfc3339;
use crate::{App, Caller};
use access::Permission;
use lifecycle::{Action, Facts, Refusal, VersionFacts};
use patch::Level;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use store::audit::{self, Outcome};
use store::modules::{NewVersion, SaveError};
use store::{StoreError, new_id, now_ms};

pub use store::modules::{Module, ModuleStatus, Version, VersionSource as Source};

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        let message = r.to_string();
        match r {
            Refusal::NotPermitted(_) => AppError::Forbidden {
                code: "forbidden",
                reason: message,
            },
            Refusal::NoVersion => AppError::conflict(message),
            Refusal::InvalidVersion { .. } => {
                AppError::Invalid(Box::new(Problem::new("invalid_version", message)))
            }
            Refusal::WrongStatus { status, .. } => AppError::Conflict(Box::new(
                Problem::new("wrong_status", message).detail("status", status),
            )),
            Refusal::FourEyes => AppError::Forbidden {
                code: "four_eyes",
                reason: message,
            },
            Refusal::NotAssigned => AppError::Forbidden {
                code: "not_assigned",
                reason: message,
            },
            Refusal::NotSubmitter => AppError::Forbidden {
                code: "not_submitter",
                reason: message,
            },
            Refusal::NotApproved { number } => AppError::Conflict(Box::new(
                Problem::new("not_approved", message).detail("version", number),
            )),
            Refusal::NotPublished => {
                AppError::Conflict(Box::new(Problem::new("not_published", message)))
            }
            Refusal::NeverPublished { number } => AppError::Conflict(Box::new(
                Problem::new("never_published", message).detail("version", number),
            )),
        }
    }
}

/// A version as clients see it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VersionView {
    pub number: i64,
    pub content_hash: String,
    pub author: String,
    pub parent_version: Option<i64>,
    pub message: String,
    /// `ai`, `manual`, `restore` or `import` (from another instance's bundle).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub source: Source,
    pub prompt: Option<String>,
    pub model: Option<String>,
    /// `L1`, `L2` or `L3`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub level: Level,
    /// Invalid versions are drafts to edit; they can never be submitted.
    pub valid: bool,
    /// An L2 version a model wrote, not yet confirmed by a person.
    pub needs_confirmation: bool,
    pub confirmed_by: Option<String>,
    /// Whether the version may be submitted for review as far as its content goes.
    pub submittable: bool,
    pub created_at: String,
    /// The validation report (docs/patch-dsl.md).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub report: Value,
    /// The patch document (or the text as saved, when it is not JSON).
    #[cfg_attr(feature = "openapi", schema(schema_with = patch_or_text))]
    pub patch: Value,
    /// What the gateway fixed in the model's reply without another model call
    /// (e.g. `trailing_commas`, `wrapper`); empty for other versions.
    pub repairs: Vec<String>,
    /// What the generation of this version used: `tokensIn`, `tokensOut`, `cost`
    /// (decimal text) and `currency`, `attempts`, `answeredBy` (the model that wrote
    /// it) and `fallbacks` (models that failed first). Absent for hand-written versions.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation: Option<Value>,
    /// For a version imported from another instance's bundle: the source instance,
    /// module and version, the author, models and prompts there (docs/bundles.md).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imported: Option<Value>,
}

/// The schema of a patch as stored: a document, or the text as saved when it is not
/// a JSON object.
#[cfg(feature = "openapi")]
pub fn patch_or_text() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::Array(vec![Type::Object, Type::String]))
        .description(Some(
            "A patch document (modgate.patch/v1), or its JSON text as saved.",
        ))
        .build()
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
            submittable: v.valid && v.level != Level::L3 && !unconfirmed,
            level: v.level,
            valid: v.valid,
            needs_confirmation: unconfirmed,
            confirmed_by: v.confirmed_by,
            created_at: rfc3339(v.created_at),
            repairs: v.repairs,
            generation: v.generation,
            imported: v.imported,
            report: serde_json::from_str(&v.report).unwrap_or(Value::Null),
            // A document when the text is a JSON object; otherwise the text as saved
            // (a draft such as `0` or `[]` is text to fix, not a document).
            patch: match serde_json::from_str(&v.patch) {
                Ok(doc @ Value::Object(_)) => doc,
                _ => Value::String(v.patch),
            },
        }
    }
}

/// A module as clients see it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ModuleView {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub description: String,
    /// `draft`, `pending_review`, `reviewing`, `approved`, `published` or `unpublished`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub status: ModuleStatus,
    /// `null`: the default model.
    pub model_id: Option<String>,
    pub model_name: Option<String>,
    pub owner: String,
    pub current_version: i64,
    /// Its place in the live spec, beside the working version's status: v1 can be live
    /// while v2 is in review. `null`: never published.
    pub publication: Option<PublicationState>,
    pub created_at: String,
    pub updated_at: String,
}

/// Whether a module is part of the live spec, and with which version and release.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PublicationState {
    /// `published` or `unpublished`.
    pub status: String,
    pub version: i64,
    pub release: String,
}

/// The module with its model's name.
pub async fn view(app: &App, m: Module) -> AppResult<ModuleView> {
    let model_name = match &m.model_id {
        Some(id) => store::models::get(&app.db, id).await?.map(|x| x.name),
        None => None,
    };
    let publication = store::publications::list(&app.db)
        .await?
        .into_iter()
        .find(|p| p.module_id == m.id)
        .map(|p| PublicationState {
            status: p.status.to_string(),
            version: p.version,
            release: p.release,
        });
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
        publication,
        created_at: rfc3339(m.created_at),
        updated_at: rfc3339(m.updated_at),
    })
}

/// Every module, most recently changed first.
pub async fn list(app: &App, by: &Caller) -> AppResult<Vec<ModuleView>> {
    require_reader(by)?;
    let mut out = Vec::new();
    for m in store::modules::list(&app.db).await? {
        out.push(view(app, m).await?);
    }
    Ok(out)
}

/// Modules are read by those who develop them and by those who test them.
fn require_reader(by: &Caller) -> AppResult<()> {
    if by.can(Permission::ModulesTest) {
        return Ok(());
    }
    by.require(Permission::ModulesDevelop)
}

pub async fn get(app: &App, by: &Caller, id: &str) -> AppResult<Module> {
    require_reader(by)?;
    find(app, id).await
}

async fn find(app: &App, id: &str) -> AppResult<Module> {
    store::modules::get(&app.db, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("module {id}")))
}

/// A module by its id or, failing that, its slug (for the command line).
pub async fn find_by_id_or_slug(app: &App, by: &Caller, key: &str) -> AppResult<Module> {
    require_reader(by)?;
    if let Some(m) = store::modules::get(&app.db, key).await? {
        return Ok(m);
    }
    store::modules::by_slug(&app.db, key)
        .await?
        .ok_or_else(|| AppError::not_found(format!("module with id or slug '{key}'")))
}

/// The module's versions, newest first.
pub async fn versions(app: &App, by: &Caller, module_id: &str) -> AppResult<Vec<Version>> {
    get(app, by, module_id).await?;
    Ok(store::modules::versions(&app.db, module_id).await?)
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

async fn check_model(app: &App, id: &str, errs: &mut FieldErrors) -> AppResult<()> {
    if store::models::get(&app.db, id).await?.is_none() {
        errs.add("modelId", format!("no model with id '{id}'"));
    }
    Ok(())
}

fn slug_conflict(name: &str) -> impl FnOnce(StoreError) -> AppError + '_ {
    move |e| match e {
        StoreError::Conflict(_) => AppError::Conflict(Box::new(
            Problem::new(
                "conflict",
                format!("a module named '{name}' already exists"),
            )
            .field("name", "is taken"),
        )),
        e => e.into(),
    }
}

pub async fn create(
    app: &App,
    by: &Caller,
    name: &str,
    description: Option<&str>,
    model_id: Option<&str>,
) -> AppResult<Module> {
    by.require(Permission::ModulesDevelop)?;
    let mut errs = FieldErrors::default();
    let name = parse_name(name, &mut errs);
    let description = parse_description(description.unwrap_or(""), &mut errs);
    if let Some(m) = model_id {
        check_model(app, m, &mut errs).await?;
    }
    errs.into_result()?;
    let (Some(name), Some(description)) = (name, description) else {
        return Err(AppError::Internal(anyhow::anyhow!(
            "a parsed field is missing without a field error"
        )));
    };
    let id = new_id();
    let now = now_ms();
    let m = Module {
        slug: slug_of(&name, &id),
        id,
        name,
        description,
        status: ModuleStatus::Draft,
        model_id: model_id.map(str::to_owned),
        owner: by.username.clone(),
        current_version: 0,
        created_at: now,
        updated_at: now,
    };
    let mut tx = app.db.begin().await?;
    store::modules::insert(&mut tx, &m)
        .await
        .map_err(slug_conflict(&m.name))?;
    let mut e = by.audit("module.create", Outcome::Success);
    e.resource_type = Some("module".into());
    e.resource_id = Some(m.id.clone());
    e.details = json!({ "name": m.name, "modelId": m.model_id });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(m)
}

pub async fn update(
    app: &App,
    by: &Caller,
    id: &str,
    name: Option<&str>,
    description: Option<&str>,
    model_id: Option<Option<&str>>,
) -> AppResult<Module> {
    by.require(Permission::ModulesDevelop)?;
    let mut m = find(app, id).await?;
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
            check_model(app, x, &mut errs).await?;
        }
        m.model_id = mid.map(str::to_owned);
    }
    errs.into_result()?;
    let mut tx = app.db.begin().await?;
    store::modules::update_details(&mut tx, &m)
        .await
        .map_err(slug_conflict(&m.name))?;
    let mut e = by.audit("module.update", Outcome::Success);
    e.resource_type = Some("module".into());
    e.resource_id = Some(id.to_owned());
    e.details = json!({ "name": m.name,
        "changes": { "name": [before.name, m.name], "description": before.description != m.description,
                     "modelId": [before.model_id, m.model_id] } });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    find(app, id).await
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
    /// What the gateway fixed in the model's reply (repair codes).
    pub repairs: Vec<String>,
    /// What the generation used (see [`VersionView::generation`]).
    pub generation: Option<Value>,
    /// What a bundle said of an imported version's making.
    pub imported: Option<Value>,
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
    app: &App,
    by: &Caller,
    module_id: &str,
    input: SaveInput,
) -> AppResult<VersionView> {
    let module = find(app, module_id).await?;
    // Asked now so that a refusal costs nothing, and again below under the write lock.
    lifecycle::next(module.status, Action::Save, save_facts(by, None))?;
    let message = input.message.trim();
    if message.is_empty() {
        return Err(AppError::invalid(
            "message",
            "say what this version changes",
        ));
    }
    if message.chars().count() > 500 {
        return Err(AppError::invalid(
            "message",
            "must be at most 500 characters",
        ));
    }
    if input.patch.trim().is_empty() {
        return Err(AppError::invalid("patch", "is empty"));
    }
    if input.base_version < 0 {
        return Err(AppError::invalid(
            "baseVersion",
            "must be 0 or a version number",
        ));
    }
    let spec = crate::live::for_module(app, module_id).await?;
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
        return Err(AppError::Invalid(Box::new(
            Problem::new(
                "confirmation_required",
                format!(
                    "this patch is L2 — it can reject, hide or expose existing data ({}); save it with confirmL2 to confirm",
                    ops.join("; ")
                ),
            )
            .detail("report", &report),
        )));
    }
    let new = NewVersion {
        content_hash: content_hash(&input.patch),
        patch: input.patch.clone(),
        author: by.username.clone(),
        message: message.to_owned(),
        source: input.source,
        prompt: input.prompt.clone(),
        model: input.model.clone(),
        report: serde_json::to_string(&report).map_err(anyhow::Error::from)?,
        level: report.level,
        valid,
        needs_confirmation: l2 && input.source == Source::Ai,
        repairs: input.repairs.clone(),
        generation: input.generation.clone(),
        imported: input.imported.clone(),
    };
    let mut tx = app.db.begin().await?;
    let module = store::modules::get_in(&mut tx, module_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("module {module_id}")))?;
    let status = lifecycle::next(
        module.status,
        Action::Save,
        save_facts(
            by,
            Some(VersionFacts {
                number: input.base_version + 1,
                valid,
                level: report.level,
            }),
        ),
    )?;
    let number = match store::modules::save_version(
        &mut tx,
        module_id,
        input.base_version,
        status,
        &new,
    )
    .await
    {
        Ok(n) => n,
        Err(SaveError::Stale { current }) => {
            return Err(AppError::Conflict(Box::new(
                Problem::new(
                    "conflict",
                    format!(
                        "the module is at version {current}, not {}: someone saved since this edit began; reload and apply your change again",
                        input.base_version
                    ),
                )
                .detail("currentVersion", current),
            )));
        }
        Err(SaveError::Store(e)) => return Err(e.into()),
    };
    let mut e = by.audit("module.version", Outcome::Success);
    e.resource_type = Some("module".into());
    e.resource_id = Some(module_id.to_owned());
    e.details = json!({ "version": number, "source": new.source, "level": new.level, "valid": valid,
        "contentHash": new.content_hash, "confirmedL2": l2 && input.confirm_l2, "message": new.message });
    audit::append(&mut tx, e).await?;
    // What was under review is no longer the module's newest version.
    let signalled = crate::reviews::supersede_open(app, &mut tx, by, &module).await?;
    tx.commit().await?;
    app.signals.announced(signalled);
    find_version(app, module_id, number).await.map(Into::into)
}

/// The facts a save is judged on.
fn save_facts(by: &Caller, version: Option<VersionFacts>) -> Facts {
    Facts::plain(by.can(Action::Save.permission()), version)
}

/// Whether `by` may save a new version of `module` now (what generating one ends in).
pub fn may_save(by: &Caller, module: &Module) -> AppResult<()> {
    lifecycle::next(module.status, Action::Save, save_facts(by, None))?;
    Ok(())
}

/// One version of a module.
pub async fn version(app: &App, by: &Caller, module_id: &str, n: i64) -> AppResult<Version> {
    require_reader(by)?;
    find_version(app, module_id, n).await
}

async fn find_version(app: &App, module_id: &str, n: i64) -> AppResult<Version> {
    store::modules::version(&app.db, module_id, n)
        .await?
        .ok_or_else(|| AppError::not_found(format!("version {n} of module {module_id}")))
}

/// Saves an old version's patch as the newest version.
pub async fn restore(
    app: &App,
    by: &Caller,
    module_id: &str,
    number: i64,
    confirm_l2: bool,
) -> AppResult<VersionView> {
    let m = get(app, by, module_id).await?;
    let old = store::modules::version(&app.db, module_id, number)
        .await?
        .ok_or_else(|| AppError::invalid("version", format!("module has no version {number}")))?;
    save_version(
        app,
        by,
        module_id,
        SaveInput {
            patch: old.patch,
            message: format!("Restore version {number}"),
            base_version: m.current_version,
            confirm_l2,
            source: Source::Restore,
            prompt: None,
            model: None,
            repairs: Vec::new(),
            generation: None,
            imported: None,
        },
    )
    .await
}

/// A person confirms an L2 version a model wrote.
pub async fn confirm(
    app: &App,
    by: &Caller,
    module_id: &str,
    number: i64,
) -> AppResult<VersionView> {
    by.require(Permission::ModulesDevelop)?;
    let v = find_version(app, module_id, number).await?;
    if !v.needs_confirmation {
        return Err(AppError::conflict(format!(
            "version {number} needs no confirmation (it is {}{})",
            v.level,
            if v.valid { "" } else { ", invalid" }
        )));
    }
    let mut tx = app.db.begin().await?;
    if !store::modules::confirm(&mut tx, module_id, number, &by.username).await? {
        return Err(AppError::conflict(format!(
            "version {number} is already confirmed"
        )));
    }
    let mut e = by.audit("module.version_confirm", Outcome::Success);
    e.resource_type = Some("module".into());
    e.resource_id = Some(module_id.to_owned());
    e.details = json!({ "version": number, "level": v.level, "contentHash": v.content_hash });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    find_version(app, module_id, number).await.map(Into::into)
}

/// The difference between two versions (0 is the empty patch).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VersionDiff {
    pub from: i64,
    pub to: i64,
    /// Operations in `to` that are not in `from`, and the reverse.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub added_operations: Vec<Value>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
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
    app: &App,
    by: &Caller,
    module_id: &str,
    from: i64,
    to: i64,
) -> AppResult<VersionDiff> {
    get(app, by, module_id).await?;
    let live = crate::live::for_module(app, module_id).await?;
    let load = |n: i64| async move {
        if n == 0 {
            return Ok::<String, AppError>(
                json!({ "dsl": patch::DSL_VERSION, "title": "", "operations": [] }).to_string(),
            );
        }
        Ok(store::modules::version(&app.db, module_id, n)
            .await?
            .ok_or_else(|| {
                AppError::invalid(
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

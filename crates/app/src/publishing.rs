//! Publishing (上架), unpublishing (下架), rollback and restore: each changes the set
//! of published module versions and recomputes the live spec in one transaction with
//! its audit row, its release record and its announcement — or changes nothing and
//! says why (the composed spec would not validate: which module conflicts, which
//! depends). The impact of each is computed before, in SQL on the records.

use crate::error::{AppError, AppResult, Problem};
use crate::live::{self, Part};
use crate::modules::lifecycle::{self, Action, Facts, VersionFacts};
use crate::notifications::{self, Announcement};
use crate::time::rfc3339;
use crate::{App, Caller};
use access::{Permission, PlatformRole};
use patch::Level;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use spec::Spec;
use std::collections::BTreeSet;
use store::audit::{self, Outcome};
use store::modules::Module;
use store::publications::{Publication, PublicationStatus, Release};
use store::{Tx, new_id, now_ms};

/// A module's publication as clients see it.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PublicationView {
    pub module_id: String,
    pub module_name: String,
    /// `published` or `unpublished`.
    pub status: String,
    pub version: i64,
    pub release: String,
    pub content_hash: String,
    /// Order of application on the base CRM.
    pub position: i64,
    pub published_by: String,
    pub published_at: String,
    pub unpublished_by: Option<String>,
    pub unpublished_at: Option<String>,
    /// The live spec version the last action produced.
    pub spec_version: i64,
}

fn view_of(p: Publication, module_name: String) -> PublicationView {
    PublicationView {
        module_id: p.module_id,
        module_name,
        status: p.status.to_string(),
        version: p.version,
        release: p.release,
        content_hash: p.content_hash,
        position: p.position,
        published_by: p.published_by,
        published_at: rfc3339(p.published_at),
        unpublished_by: p.unpublished_by,
        unpublished_at: p.unpublished_at.map(rfc3339),
        spec_version: p.spec_version,
    }
}

async fn name_of(app: &App, module_id: &str) -> AppResult<String> {
    Ok(store::modules::get(&app.db, module_id)
        .await?
        .map(|m| m.name)
        .unwrap_or_else(|| module_id.to_owned()))
}

/// Every module that was ever published, in publish order.
pub async fn list(app: &App, by: &Caller) -> AppResult<Vec<PublicationView>> {
    require_reader(by)?;
    let mut out = Vec::new();
    for p in store::publications::list(&app.db).await? {
        let name = name_of(app, &p.module_id).await?;
        out.push(view_of(p, name));
    }
    Ok(out)
}

/// Publishers, and the reviewers and developers who follow a module to production.
fn require_reader(by: &Caller) -> AppResult<()> {
    if [
        Permission::ModulesPublish,
        Permission::ModulesReview,
        Permission::ModulesDevelop,
    ]
    .iter()
    .any(|p| by.can(*p))
    {
        return Ok(());
    }
    by.require(Permission::ModulesPublish)
}

/// One release of a module.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReleaseView {
    pub version: i64,
    /// Semantic version, e.g. `1.2.0`.
    pub release: String,
    /// The version messages since the previous release.
    pub changelog: String,
    /// `publish`, `rollback` or `restore`.
    pub action: String,
    pub published_by: String,
    pub published_at: String,
    pub spec_version: i64,
    pub content_hash: String,
    /// This release is the module's live one.
    pub live: bool,
}

/// A module's releases (newest first) and its publication.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Releases {
    pub items: Vec<ReleaseView>,
    /// `null`: never published.
    pub publication: Option<PublicationView>,
}

pub async fn releases(app: &App, by: &Caller, module_id: &str) -> AppResult<Releases> {
    require_reader(by)?;
    let m = find(app, module_id).await?;
    let publication = store::publications::list(&app.db)
        .await?
        .into_iter()
        .find(|p| p.module_id == module_id);
    let live = publication
        .as_ref()
        .filter(|p| p.status == PublicationStatus::Published)
        .map(|p| (p.version, p.release.clone()));
    let mut seen_live = false;
    let items = store::publications::releases(&app.db, module_id)
        .await?
        .into_iter()
        .map(|r| {
            // The newest release of the live version and name is the live one.
            let is_live = !seen_live && live.as_ref() == Some(&(r.version, r.release.clone()));
            seen_live |= is_live;
            ReleaseView {
                version: r.version,
                release: r.release,
                changelog: r.changelog,
                action: r.action,
                published_by: r.by_user,
                published_at: rfc3339(r.at),
                spec_version: r.spec_version,
                content_hash: r.content_hash,
                live: is_live,
            }
        })
        .collect();
    Ok(Releases {
        items,
        publication: publication.map(|p| view_of(p, m.name)),
    })
}

async fn find(app: &App, module_id: &str) -> AppResult<Module> {
    store::modules::get(&app.db, module_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("module {module_id}")))
}

/// The parts of the live spec after an action: the published set with `module`
/// replaced by (`version`, kept position) or left out (`None`), in order.
async fn parts_with(
    tx: &mut Tx,
    pubs: &[Publication],
    module_id: &str,
    version: Option<i64>,
) -> AppResult<Vec<Part>> {
    let mut parts = Vec::new();
    let mut placed = false;
    for p in pubs {
        if p.module_id == module_id {
            placed = true;
            if let Some(v) = version {
                parts.push(live::part(tx, module_id, v, p.position).await?);
            }
        } else if p.status == PublicationStatus::Published {
            parts.push(live::part(tx, &p.module_id, p.version, p.position).await?);
        }
    }
    if let (false, Some(v)) = (placed, version) {
        let next = pubs.iter().map(|p| p.position).max().unwrap_or(0) + 1;
        parts.push(live::part(tx, module_id, v, next).await?);
    }
    parts.sort_by_key(|p| p.position);
    Ok(parts)
}

/// Why the composed spec would not validate, naming the other module.
async fn conflict(
    app: &App,
    parts: &[Part],
    module_id: &str,
    e: patch::ComposeError,
) -> AppResult<AppError> {
    let failing = &parts[e.index];
    // The candidate itself failed on what others built: find the one it collides with.
    let other = if failing.module_id == module_id {
        let base = spec::base_spec();
        let mut found = None;
        for p in parts.iter().filter(|p| p.module_id != module_id) {
            let pair: Vec<&Part> = if p.position < failing.position {
                vec![p, failing]
            } else {
                vec![failing, p]
            };
            if patch::compose(&base, pair.iter().map(|x| &x.doc)).is_err() {
                found = Some(p.module_id.clone());
                break;
            }
        }
        found
    } else {
        Some(failing.module_id.clone())
    };
    let (other_id, other_name) = match other {
        Some(id) => {
            let name = name_of(app, &id).await?;
            (Some(id), Some(name))
        }
        None => (None, None),
    };
    Ok(AppError::Invalid(Box::new(
        Problem::new(
            "conflict_with_module",
            format!(
                "the live spec would not validate with this change: {}{}",
                match &other_name {
                    Some(n) => format!("it conflicts with the published module '{n}': "),
                    None => String::new(),
                },
                e.report
                    .errors
                    .iter()
                    .take(3)
                    .map(|x| format!("{} {}", x.code, x.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        )
        .detail("module", json!({ "id": other_id, "name": other_name }))
        .detail("errors", &e.report.errors),
    )))
}

/// The next release name: the given one (semver, unused), or the next after the
/// module's newest release — minor for an L2 version, patch for L1; `1.0.0` first.
fn release_name(given: Option<&str>, previous: &[Release], level: Level) -> AppResult<String> {
    let parse = |s: &str| -> Option<(u64, u64, u64)> {
        let mut it = s.split('.').map(|x| x.parse::<u64>().ok());
        let v = (it.next()??, it.next()??, it.next()??);
        it.next().is_none().then_some(v)
    };
    if let Some(g) = given {
        let g = g.trim();
        if parse(g).is_none() {
            return Err(AppError::invalid(
                "release",
                format!("'{g}' is not a release name like 1.2.0"),
            ));
        }
        if previous
            .iter()
            .any(|r| r.release == g && r.action == "publish")
        {
            return Err(AppError::invalid(
                "release",
                format!("release {g} exists already"),
            ));
        }
        return Ok(g.to_owned());
    }
    let newest = previous.iter().filter_map(|r| parse(&r.release)).max();
    Ok(match newest {
        None => "1.0.0".to_owned(),
        Some((a, b, _)) if level == Level::L2 => format!("{a}.{}.0", b + 1),
        Some((a, b, c)) => format!("{a}.{b}.{}", c + 1),
    })
}

/// The version messages after the last released version up to `version`.
async fn changelog(
    app: &App,
    module_id: &str,
    version: i64,
    previous: &[Release],
) -> AppResult<String> {
    let since = previous
        .iter()
        .map(|r| r.version)
        .filter(|v| *v < version)
        .max()
        .unwrap_or(0);
    let mut lines: Vec<String> = store::modules::versions(&app.db, module_id)
        .await?
        .into_iter()
        .filter(|v| v.number > since && v.number <= version)
        .map(|v| format!("v{}: {}", v.number, v.message))
        .collect();
    lines.reverse();
    Ok(lines.join("\n"))
}

/// What a publish or rollback answers.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Published {
    pub publication: PublicationView,
    /// The live spec version now.
    pub spec_version: i64,
}

/// Publishes an approved version (上架); another version of a published module
/// replaces it in place.
pub async fn publish(
    app: &App,
    by: &Caller,
    module_id: &str,
    version: i64,
    release: Option<&str>,
) -> AppResult<Published> {
    go_live(app, by, module_id, version, release, Action::Publish).await
}

/// Publishes an earlier version that was published before and is still approved.
pub async fn rollback(
    app: &App,
    by: &Caller,
    module_id: &str,
    version: i64,
) -> AppResult<Published> {
    go_live(app, by, module_id, version, None, Action::Rollback).await
}

async fn go_live(
    app: &App,
    by: &Caller,
    module_id: &str,
    number: i64,
    release: Option<&str>,
    action: Action,
) -> AppResult<Published> {
    by.require(Permission::ModulesPublish)?;
    let people = notifications::people(app).await?;
    let mut tx = app.db.begin().await?;
    let module = store::modules::get_in(&mut tx, module_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("module {module_id}")))?;
    let v = store::modules::version_in(&mut tx, module_id, number)
        .await?
        .ok_or_else(|| {
            AppError::invalid("version", format!("the module has no version {number}"))
        })?;
    let approved = store::reviews::approval_of(&app.db, module_id, number, &v.content_hash)
        .await?
        .is_some();
    let previous = store::publications::releases_in(&mut tx, module_id).await?;
    let pubs = store::publications::list_in(&mut tx).await?;
    let existing = pubs.iter().find(|p| p.module_id == module_id).cloned();
    let facts = Facts {
        approved,
        current: number == module.current_version,
        published: existing
            .as_ref()
            .is_some_and(|p| p.status == PublicationStatus::Published),
        was_published: previous.iter().any(|r| r.version == number),
        ..Facts::plain(
            by.can(action.permission()),
            Some(VersionFacts {
                number,
                valid: v.valid,
                level: v.level,
            }),
        )
    };
    let status = lifecycle::next(module.status, action, facts)?;
    if existing
        .as_ref()
        .is_some_and(|p| p.status == PublicationStatus::Published && p.version == number)
    {
        return Err(AppError::Conflict(Box::new(
            Problem::new(
                "already_published",
                format!("version {number} is the live version of this module already"),
            )
            .detail("version", number),
        )));
    }
    let parts = parts_with(&mut tx, &pubs, module_id, Some(number)).await?;
    if let Err(e) = live::compose_parts(&parts) {
        return Err(conflict(app, &parts, module_id, e).await?);
    }
    let release = match action {
        Action::Rollback => previous
            .iter()
            .find(|r| r.version == number)
            .map(|r| r.release.clone())
            .unwrap_or_else(|| "1.0.0".into()),
        _ => release_name(release, &previous, v.level)?,
    };
    let log = match action {
        Action::Rollback => format!("Rollback to v{number} (release {release})"),
        _ => changelog(app, module_id, number, &previous).await?,
    };
    let position = parts
        .iter()
        .find(|p| p.module_id == module_id)
        .map(|p| p.position)
        .unwrap_or(1);
    let now = now_ms();
    let mut publication = Publication {
        module_id: module_id.to_owned(),
        version: number,
        content_hash: v.content_hash.clone(),
        position,
        status: PublicationStatus::Published,
        release: release.clone(),
        published_by: by.username.clone(),
        published_at: now,
        unpublished_by: None,
        unpublished_at: None,
        spec_version: 0,
    };
    store::publications::put(&mut tx, &publication).await?;
    let verb = if action == Action::Rollback {
        "roll back"
    } else {
        "publish"
    };
    let cause = format!("{verb} {} v{number} ({release})", module.name);
    let spec_version = recompute_and_snapshot(&mut tx, &cause).await?;
    publication.spec_version = spec_version;
    store::publications::put(&mut tx, &publication).await?;
    store::publications::add_release(
        &mut tx,
        &Release {
            id: new_id(),
            module_id: module_id.to_owned(),
            version: number,
            content_hash: v.content_hash.clone(),
            release: release.clone(),
            changelog: log.clone(),
            action: action.as_str().to_owned(),
            by_user: by.username.clone(),
            at: now,
            spec_version,
        },
    )
    .await?;
    store::modules::set_status(&mut tx, module_id, status).await?;
    let (audit_action, event) = match action {
        Action::Rollback => ("module.rollback", "module.rolled_back"),
        _ => ("module.publish", "module.published"),
    };
    let mut e = by.audit(audit_action, Outcome::Success);
    e.resource_type = Some("module".into());
    e.resource_id = Some(module_id.to_owned());
    e.details = json!({ "version": number, "release": release, "contentHash": v.content_hash,
        "specVersion": spec_version, "previous": existing.map(|p| json!({ "version": p.version, "status": p.status })) });
    audit::append(&mut tx, e).await?;
    let told = announce(app, &mut tx, &people, by, event, &module, number).await?;
    tx.commit().await?;
    app.signals.announced(told);
    refresh(app).await;
    Ok(Published {
        publication: view_of(publication, module.name),
        spec_version,
    })
}

/// What an upgrade of the base CRM did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Upgraded {
    /// The stored version before.
    pub from: i64,
    /// The live version now (the same when nothing differed).
    pub to: i64,
    pub changed: bool,
}

/// Records the live spec that this release's base CRM and the published modules
/// compose to, when it differs from the stored one (a new base CRM after an upgrade:
/// labels, numbering). Start-up never does this on its own (decision 0008); an
/// administrator does it deliberately, audited, and fields that became numbered are
/// numbered in the same transaction.
pub async fn upgrade_base(app: &App, by: &Caller) -> AppResult<Upgraded> {
    by.require(Permission::SpecRestore)?;
    let mut tx = app.db.begin().await?;
    let from = store::spec_versions::latest_in(&mut tx)
        .await?
        .map(|v| v.number)
        .unwrap_or(0);
    let to = recompute_and_snapshot(&mut tx, "upgrade to this release's base CRM").await?;
    let changed = to != from;
    if changed {
        let mut e = by.audit("spec.upgrade", Outcome::Success);
        e.resource_type = Some("spec".into());
        e.resource_id = Some(to.to_string());
        e.details = json!({ "from": from, "to": to });
        audit::append(&mut tx, e).await?;
    }
    tx.commit().await?;
    refresh(app).await;
    Ok(Upgraded { from, to, changed })
}

/// Recomputes the live spec inside `tx` and records the published set behind it.
async fn recompute_and_snapshot(tx: &mut Tx, cause: &str) -> AppResult<i64> {
    let r = live::recompute(tx, cause).await?;
    let set: Vec<(String, i64, i64)> = live::published(tx)
        .await?
        .into_iter()
        .map(|p| (p.module_id, p.version, p.position))
        .collect();
    store::publications::snapshot(tx, r.version.number, &set).await?;
    Ok(r.version.number)
}

/// This replica serves the new spec at once; the others within their poll.
async fn refresh(app: &App) {
    if let Err(e) = app.live.refresh(&app.db).await {
        tracing::warn!(error = %e, "could not load the new live spec");
    }
}

#[allow(clippy::too_many_arguments)]
async fn announce(
    app: &App,
    tx: &mut Tx,
    people: &[store::users::User],
    by: &Caller,
    event: &'static str,
    module: &Module,
    version: i64,
) -> AppResult<Vec<String>> {
    let mut recipients: BTreeSet<String> = store::modules::versions(&app.db, &module.id)
        .await?
        .into_iter()
        .map(|v| v.author)
        .collect();
    recipients.insert(module.owner.clone());
    recipients.extend(
        people
            .iter()
            .filter(|u| {
                u.roles.contains(&PlatformRole::Admin)
                    || u.roles
                        .iter()
                        .any(|r| r.permissions().contains(&Permission::ModulesPublish))
            })
            .map(|u| u.username.clone()),
    );
    let a = notifications::announce(
        app,
        tx,
        people,
        Announcement {
            event,
            actor: by.username.clone(),
            module_id: module.id.clone(),
            module_name: module.name.clone(),
            version,
            review: None,
            recipients,
            extra: None,
        },
    )
    .await?;
    Ok(a.user_ids)
}

/// Takes the module out of the live spec (下架). Its records keep every value; what
/// leaves the spec is hidden until it is published again.
pub async fn unpublish(app: &App, by: &Caller, module_id: &str) -> AppResult<Published> {
    by.require(Permission::ModulesPublish)?;
    let people = notifications::people(app).await?;
    let mut tx = app.db.begin().await?;
    let module = store::modules::get_in(&mut tx, module_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("module {module_id}")))?;
    let pubs = store::publications::list_in(&mut tx).await?;
    let existing = pubs.iter().find(|p| p.module_id == module_id).cloned();
    let facts = Facts {
        published: existing
            .as_ref()
            .is_some_and(|p| p.status == PublicationStatus::Published),
        ..Facts::plain(by.can(Action::Unpublish.permission()), None)
    };
    let status = lifecycle::next(module.status, Action::Unpublish, facts)?;
    let Some(mut publication) = existing else {
        return Err(AppError::Internal(anyhow::anyhow!(
            "the lifecycle let an unpublished module through"
        )));
    };
    let parts = parts_with(&mut tx, &pubs, module_id, None).await?;
    if let Err(e) = live::compose_parts(&parts) {
        let dependent = &parts[e.index];
        let name = name_of(app, &dependent.module_id).await?;
        return Err(AppError::Conflict(Box::new(
            Problem::new(
                "required_by",
                format!(
                    "the published module '{name}' depends on this one ({}); unpublish it first",
                    e.report
                        .errors
                        .iter()
                        .take(2)
                        .map(|x| x.message.clone())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            )
            .detail("module", json!({ "id": dependent.module_id, "name": name }))
            .detail("errors", &e.report.errors),
        )));
    }
    publication.status = PublicationStatus::Unpublished;
    publication.unpublished_by = Some(by.username.clone());
    publication.unpublished_at = Some(now_ms());
    store::publications::put(&mut tx, &publication).await?;
    let cause = format!("unpublish {} v{}", module.name, publication.version);
    let spec_version = recompute_and_snapshot(&mut tx, &cause).await?;
    publication.spec_version = spec_version;
    store::publications::put(&mut tx, &publication).await?;
    store::modules::set_status(&mut tx, module_id, status).await?;
    let mut e = by.audit("module.unpublish", Outcome::Success);
    e.resource_type = Some("module".into());
    e.resource_id = Some(module_id.to_owned());
    e.details = json!({ "version": publication.version, "release": publication.release, "specVersion": spec_version });
    audit::append(&mut tx, e).await?;
    let told = announce(
        app,
        &mut tx,
        &people,
        by,
        "module.unpublished",
        &module,
        publication.version,
    )
    .await?;
    tx.commit().await?;
    app.signals.announced(told);
    refresh(app).await;
    Ok(Published {
        publication: view_of(publication, module.name),
        spec_version,
    })
}

/// What a restore brought back.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Restored {
    /// The spec version whose published set was brought back.
    pub from_spec_version: i64,
    /// The live spec version now.
    pub spec_version: i64,
    pub publications: Vec<PublicationView>,
}

/// Brings back the set of published modules (and their versions) of an earlier spec
/// version (administrators).
pub async fn restore(app: &App, by: &Caller, spec_version: i64) -> AppResult<Restored> {
    by.require(Permission::SpecRestore)?;
    let people = notifications::people(app).await?;
    let mut tx = app.db.begin().await?;
    let latest = store::spec_versions::latest_in(&mut tx)
        .await?
        .map(|v| v.number)
        .unwrap_or(0);
    if spec_version < 1 || spec_version > latest {
        return Err(AppError::invalid(
            "specVersion",
            format!("there is no spec version {spec_version} (the live one is {latest})"),
        ));
    }
    let set = store::publications::set_of(&mut tx, spec_version).await?;
    let pubs = store::publications::list_in(&mut tx).await?;
    // Versions recorded before publishing existed have no set: the base CRM alone.
    let mut parts = Vec::new();
    for (m, v, pos) in &set {
        parts.push(live::part(&mut tx, m, *v, *pos).await?);
    }
    if let Err(e) = live::compose_parts(&parts) {
        let id = parts[e.index].module_id.clone();
        return Err(conflict(app, &parts, &id, e).await?);
    }
    let now = now_ms();
    let mut touched = Vec::new();
    for p in &pubs {
        let wanted = set.iter().find(|(m, _, _)| m == &p.module_id);
        let mut next = p.clone();
        match wanted {
            Some((_, v, pos)) => {
                if p.status == PublicationStatus::Published && p.version == *v {
                    continue;
                }
                let ver = store::modules::version_in(&mut tx, &p.module_id, *v)
                    .await?
                    .ok_or_else(|| {
                        AppError::not_found(format!("version {v} of module {}", p.module_id))
                    })?;
                next.version = *v;
                next.position = *pos;
                next.content_hash = ver.content_hash;
                next.status = PublicationStatus::Published;
                next.published_by = by.username.clone();
                next.published_at = now;
                next.unpublished_by = None;
                next.unpublished_at = None;
                next.release = store::publications::releases_in(&mut tx, &p.module_id)
                    .await?
                    .into_iter()
                    .find(|r| r.version == *v)
                    .map(|r| r.release)
                    .unwrap_or(next.release);
            }
            None => {
                if p.status == PublicationStatus::Unpublished {
                    continue;
                }
                next.status = PublicationStatus::Unpublished;
                next.unpublished_by = Some(by.username.clone());
                next.unpublished_at = Some(now);
            }
        }
        store::publications::put(&mut tx, &next).await?;
        touched.push(next);
    }
    let cause = format!("restore the published set of spec version {spec_version}");
    let now_version = recompute_and_snapshot(&mut tx, &cause).await?;
    for p in &mut touched {
        p.spec_version = now_version;
        store::publications::put(&mut tx, p).await?;
    }
    let mut e = by.audit("spec.restore", Outcome::Success);
    e.resource_type = Some("spec".into());
    e.resource_id = Some(now_version.to_string());
    e.details = json!({ "from": spec_version, "specVersion": now_version,
        "changed": touched.iter().map(|p| json!({ "module": p.module_id, "version": p.version, "status": p.status })).collect::<Vec<_>>() });
    audit::append(&mut tx, e).await?;
    let admins: BTreeSet<String> = people
        .iter()
        .filter(|u| u.roles.contains(&PlatformRole::Admin))
        .map(|u| u.username.clone())
        .collect();
    let a = notifications::announce(
        app,
        &mut tx,
        &people,
        Announcement {
            event: "spec.restored",
            actor: by.username.clone(),
            module_id: String::new(),
            module_name: String::new(),
            version: now_version,
            review: None,
            recipients: admins,
            extra: None,
        },
    )
    .await?;
    tx.commit().await?;
    app.signals.announced(a.user_ids);
    refresh(app).await;
    let mut publications = Vec::new();
    for p in store::publications::list(&app.db).await? {
        let name = name_of(app, &p.module_id).await?;
        publications.push(view_of(p, name));
    }
    Ok(Restored {
        from_spec_version: spec_version,
        spec_version: now_version,
        publications,
    })
}

/// One constraint existing records would fail, or one field that would be hidden.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FieldImpact {
    pub field: String,
    /// `required`, `unique`, `min/max`, `length`, `enum`, `pattern` — or `hidden`.
    pub constraint: String,
    /// How many records; `null` where it is not counted (`pattern`).
    pub records: Option<i64>,
}

/// What an action means for one object's records.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ObjectImpact {
    pub object: String,
    /// Records of the object now.
    pub records: i64,
    /// The whole object leaves the spec (its records are kept, hidden).
    pub hidden: bool,
    /// Records that would fail a new or narrower constraint.
    pub failing: Vec<FieldImpact>,
    /// Fields that leave the spec, with how many records hold a value.
    pub hidden_fields: Vec<FieldImpact>,
}

/// The impact of a publish, unpublish or rollback, before it happens.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Impact {
    pub action: String,
    pub version: Option<i64>,
    /// Unified diff of the live spec and the spec after the action.
    pub spec_diff: String,
    /// Every definition that appears, disappears or changes (objects, fields,
    /// transitions, pages, menus, roles and their grants), in words.
    pub changes: Vec<String>,
    /// The objects whose records are concerned.
    pub objects: Vec<ObjectImpact>,
}

/// What `action` (`publish`, `unpublish`, `rollback`) of `version` would do to the
/// live spec and the records; refused like the action itself when it would not
/// validate.
pub async fn impact(
    app: &App,
    by: &Caller,
    module_id: &str,
    action: &str,
    version: Option<i64>,
) -> AppResult<Impact> {
    require_reader(by)?;
    find(app, module_id).await?;
    let with = match (action, version) {
        ("publish" | "rollback", Some(v)) => Some(v),
        ("publish" | "rollback", None) => {
            return Err(AppError::invalid("version", "say which version"));
        }
        ("unpublish", _) => None,
        (other, _) => {
            return Err(AppError::invalid(
                "action",
                format!("'{other}' is not publish, unpublish or rollback"),
            ));
        }
    };
    if let Some(v) = with
        && store::modules::version(&app.db, module_id, v)
            .await?
            .is_none()
    {
        return Err(AppError::invalid(
            "version",
            format!("the module has no version {v}"),
        ));
    }
    let before = app.live.get().spec.clone();
    let mut tx = app.db.begin().await?;
    let pubs = store::publications::list_in(&mut tx).await?;
    let parts = parts_with(&mut tx, &pubs, module_id, with).await?;
    drop(tx);
    let after = match live::compose_parts(&parts) {
        Ok(s) => s,
        Err(e) => return Err(conflict(app, &parts, module_id, e).await?),
    };
    Ok(Impact {
        action: action.to_owned(),
        version: with,
        spec_diff: patch::unified_diff(&before, &after),
        changes: spec::differences(&before, &after)
            .iter()
            .map(|d| d.describe("the live spec", "the spec after this"))
            .collect(),
        objects: data_impact(app, &before, &after).await?,
    })
}

/// Counts, in SQL, the records each object's changes concern.
async fn data_impact(app: &App, before: &Spec, after: &Spec) -> AppResult<Vec<ObjectImpact>> {
    use store::records::Count;
    let mut out = Vec::new();
    for (name, old) in &before.objects {
        let records = store::records::count(&app.db, name, &Count::All).await?;
        let Some(new) = after.objects.get(name) else {
            out.push(ObjectImpact {
                object: name.clone(),
                records,
                hidden: true,
                failing: Vec::new(),
                hidden_fields: Vec::new(),
            });
            continue;
        };
        let mut failing = Vec::new();
        let mut hidden_fields = Vec::new();
        for (f, def) in &new.fields {
            let was = old.fields.get(f);
            let mut push = |constraint: &str, n: Option<i64>| {
                failing.push(FieldImpact {
                    field: f.clone(),
                    constraint: constraint.to_owned(),
                    records: n,
                })
            };
            if def.required && def.default.is_none() && !was.is_some_and(|w| w.required) {
                push(
                    "required",
                    Some(store::records::count(&app.db, name, &Count::Missing(f)).await?),
                );
            }
            if def.unique && !was.is_some_and(|w| w.unique) {
                push(
                    "unique",
                    Some(store::records::count(&app.db, name, &Count::Duplicated(f)).await?),
                );
            }
            let num = |n: &Option<serde_json::Number>| n.as_ref().and_then(|x| x.as_f64());
            if (def.min.is_some() || def.max.is_some())
                && was.is_none_or(|w| num(&w.min) != num(&def.min) || num(&w.max) != num(&def.max))
            {
                let c = Count::Outside(f, num(&def.min), num(&def.max));
                push(
                    "min/max",
                    Some(store::records::count(&app.db, name, &c).await?),
                );
            }
            if (def.min_length.is_some() || def.max_length.is_some())
                && was.is_none_or(|w| {
                    w.min_length != def.min_length || w.max_length != def.max_length
                })
            {
                let c = Count::LengthOutside(f, def.min_length, def.max_length);
                push(
                    "length",
                    Some(store::records::count(&app.db, name, &c).await?),
                );
            }
            if let Some(values) = &def.values
                && was.is_none_or(|w| {
                    w.values
                        .as_ref()
                        .is_none_or(|old| old.iter().any(|v| !values.contains(v)))
                })
            {
                push(
                    "enum",
                    Some(store::records::count(&app.db, name, &Count::NotIn(f, values)).await?),
                );
            }
            if def.pattern.is_some() && was.is_none_or(|w| w.pattern != def.pattern) {
                // Regular expressions differ between the two databases: named, not counted.
                push("pattern", None);
            }
        }
        failing.retain(|x| x.records != Some(0));
        for f in old.fields.keys().filter(|f| !new.fields.contains_key(*f)) {
            hidden_fields.push(FieldImpact {
                field: f.clone(),
                constraint: "hidden".into(),
                records: Some(store::records::count(&app.db, name, &Count::Present(f)).await?),
            });
        }
        if !failing.is_empty() || !hidden_fields.is_empty() {
            out.push(ObjectImpact {
                object: name.clone(),
                records,
                hidden: false,
                failing,
                hidden_fields,
            });
        }
    }
    Ok(out)
}

/// Runs `act` once per caller and `Idempotency-Key`: a retry with the same key gets
/// the first successful answer back and changes nothing more. (The answer is kept
/// after the action commits; were the process to die in between, the retry runs the
/// action again, which finds it done and refuses with a conflict — still changing
/// nothing.) Refusals are not kept: they changed nothing, so a retry may try again.
pub async fn idempotent<T, F, Fut>(
    app: &App,
    by: &Caller,
    key: Option<&str>,
    request: &str,
    act: F,
) -> AppResult<T>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = AppResult<T>>,
{
    let Some(key) = key else {
        return act().await;
    };
    if key.is_empty() || key.len() > 200 || key.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "Idempotency-Key",
            "must be 1 to 200 characters without control characters",
        ));
    }
    if let Some((first_request, _, body)) =
        store::publications::idempotent(&app.db, &by.id, key).await?
    {
        if first_request != request {
            return Err(AppError::invalid(
                "Idempotency-Key",
                format!("this key was used for another request ({first_request})"),
            ));
        }
        return serde_json::from_str(&body).map_err(|e| AppError::Internal(e.into()));
    }
    let out = act().await?;
    let body = serde_json::to_string(&out).map_err(|e| AppError::Internal(e.into()))?;
    let mut tx = app.db.begin().await?;
    store::publications::remember(&mut tx, &by.id, key, request, 200, &body).await?;
    tx.commit().await?;
    Ok(out)
}

/// One version of the live spec, and the published set it was composed from.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SpecVersionView {
    pub number: i64,
    pub hash: String,
    /// What produced it: `publish Loyalty v3 (1.0.0)`, …
    pub cause: String,
    pub created_at: String,
    /// The live one.
    pub live: bool,
}

/// The live spec's history, newest first (the latest 200).
pub async fn spec_history(app: &App, by: &Caller) -> AppResult<Vec<SpecVersionView>> {
    require_reader(by)?;
    let rows = store::spec_versions::history(&app.db, 200).await?;
    let newest = rows.first().map(|r| r.0);
    Ok(rows
        .into_iter()
        .map(|(number, hash, cause, at)| SpecVersionView {
            live: Some(number) == newest,
            number,
            hash,
            cause,
            created_at: rfc3339(at),
        })
        .collect())
}

//! Review of module versions: submit, assign, claim, discuss, approve, reject,
//! withdraw — and the supersession a new version causes. Every move asks the
//! [`lifecycle`](crate::modules::lifecycle) (four-eyes included), commits with its
//! audit row and its announcement, and happens at most once when two people act at
//! the same moment.

use crate::error::{AppError, AppResult, FieldErrors, Problem};
use crate::modules::lifecycle::{self, Action, Facts, Status, VersionFacts};
use crate::modules::{self, ModuleView, VersionView};
use crate::notifications::{self, Announcement};
use crate::test_runs::{self, RunView, Unmet};
use crate::time::rfc3339;
use crate::{App, Caller};
use access::{Permission, PlatformRole};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use store::audit::{self, Outcome};
pub use store::reviews::ReviewStatus;
use store::reviews::{Comment, Decision, Review};
use store::users::User;
use store::{Tx, new_id, now_ms};

const OPEN: &[ReviewStatus] = &[ReviewStatus::Pending, ReviewStatus::Reviewing];
const NOTE_MAX: usize = 2000;
const COMMENT_MAX: usize = 10_000;

/// A review as lists show it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReviewView {
    pub id: String,
    pub module_id: String,
    pub module_name: String,
    pub version: i64,
    /// What an approval binds to.
    pub content_hash: String,
    /// `pending`, `reviewing`, `approved`, `rejected`, `withdrawn` or `superseded`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub status: ReviewStatus,
    pub submitted_by: String,
    pub note: String,
    /// Assigned reviewers; empty: any reviewer.
    pub reviewers: Vec<String>,
    pub test_run_id: Option<String>,
    pub coverage: Option<f64>,
    pub decision: Option<String>,
    /// The reviewer's note on an approval, the reason of a rejection.
    pub reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

fn view_of(r: Review, module_name: String) -> ReviewView {
    ReviewView {
        id: r.id,
        module_id: r.module_id,
        module_name,
        version: r.version,
        content_hash: r.content_hash,
        status: r.status,
        submitted_by: r.submitted_by,
        note: r.note,
        reviewers: r.reviewers,
        test_run_id: r.test_run_id,
        coverage: r.coverage,
        decision: r.decision,
        reason: r.reason,
        decided_by: r.decided_by,
        decided_at: r.decided_at.map(rfc3339),
        created_at: rfc3339(r.created_at),
        updated_at: rfc3339(r.updated_at),
    }
}

async fn view(app: &App, r: Review) -> AppResult<ReviewView> {
    let name = store::modules::get(&app.db, &r.module_id)
        .await?
        .map(|m| m.name)
        .unwrap_or_default();
    Ok(view_of(r, name))
}

/// Who reads reviews and takes part in their discussion: reviewers, the developers
/// whose modules they are, and publishers (who publish what was approved).
pub const READERS: &[Permission] = &[
    Permission::ModulesReview,
    Permission::ModulesDevelop,
    Permission::ModulesPublish,
];

fn require_reader(by: &Caller) -> AppResult<()> {
    if READERS.iter().any(|p| by.can(*p)) {
        return Ok(());
    }
    by.require(Permission::ModulesReview)
}

async fn find(app: &App, id: &str) -> AppResult<Review> {
    store::reviews::get(&app.db, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("review {id}")))
}

async fn find_in(tx: &mut Tx, id: &str) -> AppResult<Review> {
    store::reviews::get_in(tx, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("review {id}")))
}

/// Who may review: active users holding `modules.review`.
fn reviewers_among(people: &[User]) -> Vec<&User> {
    people
        .iter()
        .filter(|u| {
            u.roles
                .iter()
                .any(|r| r.permissions().contains(&Permission::ModulesReview))
        })
        .collect()
}

/// The people four-eyes keeps from deciding: who wrote a version of the module, or
/// started one of its generations, since its last approval.
async fn authors_since_approval(tx: &mut Tx, module_id: &str) -> AppResult<BTreeSet<String>> {
    Ok(store::reviews::authors_since_approval_in(tx, module_id)
        .await?
        .into_iter()
        .collect())
}

/// The facts a review action is judged on.
fn facts_for(by: &Caller, action: Action, review: &Review, authors: &BTreeSet<String>) -> Facts {
    Facts {
        authored: authors.contains(&by.username),
        submitter: review.submitted_by == by.username,
        unassigned: !review.reviewers.is_empty() && !review.reviewers.contains(&by.username),
        ..Facts::plain(by.can(action.permission()), None)
    }
}

/// The people a module's events concern besides its reviewers: its owner, every
/// author of a version, and the submitter.
async fn module_people(
    app: &App,
    module: &modules::Module,
    review: &Review,
) -> AppResult<BTreeSet<String>> {
    let mut out: BTreeSet<String> = store::modules::versions(&app.db, &module.id)
        .await?
        .into_iter()
        .map(|v| v.author)
        .collect();
    out.insert(module.owner.clone());
    out.insert(review.submitted_by.clone());
    Ok(out)
}

/// The review's reviewers: those assigned, or every reviewer while none is.
fn review_people(people: &[User], review: &Review) -> BTreeSet<String> {
    if review.reviewers.is_empty() {
        reviewers_among(people)
            .into_iter()
            .map(|u| u.username.clone())
            .collect()
    } else {
        review.reviewers.iter().cloned().collect()
    }
}

fn review_ref(r: &Review) -> Value {
    let mut v = json!({ "id": r.id, "status": r.status });
    if let Some(reason) = &r.reason {
        v["reason"] = json!(reason);
    }
    v
}

/// Checks named reviewers: active users who may review and may decide on this module.
fn check_reviewers(
    names: &[String],
    people: &[User],
    authors: &BTreeSet<String>,
    errs: &mut FieldErrors,
) -> Vec<String> {
    let reviewers = reviewers_among(people);
    let mut out: Vec<String> = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let n = n.trim();
        let field = format!("reviewers[{i}]");
        if !reviewers.iter().any(|u| u.username == n) {
            errs.add(
                &field,
                format!("'{n}' is not an active user with the 'modules.review' permission"),
            );
        } else if authors.contains(n) {
            errs.add(
                &field,
                format!("'{n}' wrote or generated a version of this module since its last approval (four-eyes)"),
            );
        } else if !out.iter().any(|x| x == n) {
            out.push(n.to_owned());
        }
    }
    out
}

async fn record(
    tx: &mut Tx,
    by: &Caller,
    action: &str,
    r: &Review,
    details: Value,
) -> AppResult<()> {
    let mut e = by.audit(action, Outcome::Success);
    e.resource_type = Some("review".into());
    e.resource_id = Some(r.id.clone());
    let mut d =
        json!({ "module": r.module_id, "version": r.version, "contentHash": r.content_hash });
    if let (Some(o), Some(x)) = (d.as_object_mut(), details.as_object()) {
        o.extend(x.clone());
    }
    e.details = d;
    audit::append(tx, e).await?;
    Ok(())
}

/// A submission: the version and, optionally, reviewers and a note for them.
#[derive(Debug, Clone, Default)]
pub struct SubmitInput {
    pub version: i64,
    pub reviewers: Vec<String>,
    pub note: Option<String>,
}

/// `not_ready` with every unmet condition.
fn not_ready(version: i64, unmet: Vec<Unmet>) -> AppError {
    let summary = unmet
        .iter()
        .map(|u| u.message.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    AppError::Conflict(Box::new(
        Problem::new(
            "not_ready",
            format!("version {version} is not ready for review: {summary}"),
        )
        .detail("reasons", &unmet),
    ))
}

/// Submits the module's current version for review.
pub async fn submit(
    app: &App,
    by: &Caller,
    module_id: &str,
    input: SubmitInput,
) -> AppResult<ReviewView> {
    by.require(Permission::ModulesDevelop)?;
    let module = modules::get(app, by, module_id).await?;
    let mut errs = FieldErrors::default();
    let note = input.note.as_deref().unwrap_or("").trim().to_owned();
    if note.chars().count() > NOTE_MAX {
        errs.add("note", format!("must be at most {NOTE_MAX} characters"));
    }
    if input.version < 1 {
        errs.add("version", "must be a version number (1 or more)");
    }
    errs.into_result()?;
    let v: VersionView = modules::version(app, by, module_id, input.version)
        .await?
        .into();
    let (mut unmet, run) = test_runs::unmet(app, module_id, &v).await?;
    if input.version != module.current_version {
        unmet.insert(
            0,
            Unmet {
                count: Some(module.current_version),
                ..Unmet::new(
                    "not_current",
                    format!(
                        "version {} is not the module's current version ({})",
                        input.version, module.current_version
                    ),
                )
            },
        );
    }
    if !unmet.is_empty() {
        return Err(not_ready(input.version, unmet));
    }
    let people = notifications::people(app).await?;
    let mut tx = app.db.begin().await?;
    let module = store::modules::get_in(&mut tx, module_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("module {module_id}")))?;
    if module.current_version != input.version {
        return Err(AppError::conflict(format!(
            "the module moved to version {} meanwhile; test and submit that one",
            module.current_version
        )));
    }
    let status = lifecycle::next(
        module.status,
        Action::Submit,
        Facts::plain(
            by.can(Permission::ModulesDevelop),
            Some(VersionFacts {
                number: v.number,
                valid: v.valid,
                level: v.level,
            }),
        ),
    )?;
    let authors = authors_since_approval(&mut tx, module_id).await?;
    let mut errs = FieldErrors::default();
    let reviewers = check_reviewers(&input.reviewers, &people, &authors, &mut errs);
    errs.into_result()?;
    let now = now_ms();
    let review = Review {
        id: new_id(),
        module_id: module_id.to_owned(),
        version: v.number,
        content_hash: v.content_hash.clone(),
        status: ReviewStatus::Pending,
        submitted_by: by.username.clone(),
        note,
        reviewers,
        test_run_id: run.as_ref().map(|r| r.id.clone()),
        coverage: run.as_ref().and_then(|r| r.module_coverage),
        decision: None,
        reason: None,
        decided_by: None,
        decided_at: None,
        created_at: now,
        updated_at: now,
    };
    store::reviews::insert(&mut tx, &review)
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict(_) => {
                AppError::conflict("the module has an open review already")
            }
            e => e.into(),
        })?;
    store::modules::set_status(&mut tx, module_id, status).await?;
    record(&mut tx, by, "review.submit", &review, json!({ "reviewers": review.reviewers, "testRun": review.test_run_id, "coverage": review.coverage })).await?;
    let recipients = review_people(&people, &review);
    commit_announcing(
        app,
        tx,
        &people,
        by,
        "review.submitted",
        &module,
        &review,
        recipients,
    )
    .await?;
    view(app, review).await
}

/// Announces `event`, commits, and wakes the delivery workers and live counts.
#[allow(clippy::too_many_arguments)]
async fn commit_announcing(
    app: &App,
    mut tx: Tx,
    people: &[User],
    by: &Caller,
    event: &'static str,
    module: &modules::Module,
    review: &Review,
    recipients: BTreeSet<String>,
) -> AppResult<()> {
    let announced = announce(app, &mut tx, people, by, event, module, review, recipients).await?;
    tx.commit().await?;
    app.signals.announced(announced);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn announce(
    app: &App,
    tx: &mut Tx,
    people: &[User],
    by: &Caller,
    event: &'static str,
    module: &modules::Module,
    review: &Review,
    recipients: BTreeSet<String>,
) -> AppResult<Vec<String>> {
    let a = notifications::announce(
        app,
        tx,
        people,
        Announcement {
            event,
            actor: by.username.clone(),
            module_id: module.id.clone(),
            module_name: module.name.clone(),
            version: review.version,
            review: Some(review_ref(review)),
            recipients,
            extra: None,
        },
    )
    .await?;
    Ok(a.user_ids)
}

/// Which reviews to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Assigned {
    /// Assigned to the caller.
    Me,
    /// Assigned to nobody.
    None,
    #[default]
    Any,
}

impl std::str::FromStr for Assigned {
    type Err = AppError;
    fn from_str(s: &str) -> Result<Self, AppError> {
        match s {
            "me" => Ok(Assigned::Me),
            "none" => Ok(Assigned::None),
            "any" | "" => Ok(Assigned::Any),
            other => Err(AppError::invalid(
                "assigned",
                format!("'{other}' is not me, none or any"),
            )),
        }
    }
}

pub fn parse_status(s: &str) -> AppResult<Option<ReviewStatus>> {
    if s.is_empty() {
        return Ok(None);
    }
    s.parse()
        .map(Some)
        .map_err(|e: String| AppError::invalid("status", e))
}

/// Reviews, newest first.
pub async fn list(
    app: &App,
    by: &Caller,
    status: Option<ReviewStatus>,
    assigned: Assigned,
) -> AppResult<Vec<ReviewView>> {
    require_reader(by)?;
    let mut out = Vec::new();
    for r in store::reviews::list(&app.db, status).await? {
        let keep = match assigned {
            Assigned::Me => r.reviewers.contains(&by.username),
            Assigned::None => r.reviewers.is_empty(),
            Assigned::Any => true,
        };
        if keep {
            out.push(view(app, r).await?);
        }
    }
    Ok(out)
}

/// A module's reviews, newest first (the workspace shows the latest decision).
pub async fn for_module(app: &App, by: &Caller, module_id: &str) -> AppResult<Vec<ReviewView>> {
    require_reader(by)?;
    let m = store::modules::get(&app.db, module_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("module {module_id}")))?;
    Ok(store::reviews::for_module(&app.db, module_id)
        .await?
        .into_iter()
        .map(|r| view_of(r, m.name.clone()))
        .collect())
}

/// A comment as the thread shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CommentView {
    pub id: String,
    pub author: String,
    /// As written (Markdown).
    pub body: String,
    /// The body rendered as HTML, without raw HTML or unsafe links.
    pub body_html: String,
    /// The index of the patch operation it is about.
    pub operation: Option<i64>,
    pub reply_to: Option<String>,
    pub resolved: bool,
    pub resolved_by: Option<String>,
    pub created_at: String,
}

impl From<Comment> for CommentView {
    fn from(c: Comment) -> Self {
        CommentView {
            body_html: crate::markdown::render(&c.body),
            id: c.id,
            author: c.author,
            body: c.body,
            operation: c.operation,
            reply_to: c.reply_to,
            resolved: c.resolved,
            resolved_by: c.resolved_by,
            created_at: rfc3339(c.created_at),
        }
    }
}

/// One AI generation of the module: who started it, with which model, how it went.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Generation {
    pub started_by: Option<String>,
    pub model: Option<String>,
    pub request: Option<String>,
    pub attempts: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    /// `valid` when it ended in a version.
    pub outcome: String,
    /// The version it produced.
    pub version: Option<i64>,
    pub at: String,
}

/// What the caller may do with the review now: each action is `null` when allowed,
/// or the reason it is not.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Allowed {
    pub claim: Option<String>,
    pub approve: Option<String>,
    pub reject: Option<String>,
    pub withdraw: Option<String>,
}

/// Everything a reviewer decides on.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReviewDetail {
    #[serde(flatten)]
    pub review: ReviewView,
    pub module: ModuleView,
    /// The version under review, with its validation report (operations and levels).
    pub version_info: VersionView,
    /// Unified diff of the live spec and the live spec with this version applied.
    pub spec_diff: String,
    /// The attached test run and its report.
    pub test_run: Option<RunView>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub test_report: Value,
    /// Every version's source, author, request and model.
    pub versions: Vec<VersionView>,
    /// Every AI generation of the module: attempts and tokens.
    pub generations: Vec<Generation>,
    pub comments: Vec<CommentView>,
    /// The module's other reviews, newest first.
    pub history: Vec<ReviewView>,
    /// What the caller may do (`null`) or why not.
    pub allowed: Allowed,
}

/// The AI generations of a module, oldest first, from the gateway's audit rows.
async fn generations(app: &App, module_id: &str) -> AppResult<Vec<Generation>> {
    let filter = store::audit::Filter {
        action: Some("ai.generate".into()),
        resource_id: Some(module_id.to_owned()),
        ..Default::default()
    };
    let (mut rows, _) = store::audit::list(&app.db, &filter, 0, 1000).await?;
    rows.reverse();
    let mut out: Vec<Generation> = Vec::new();
    let mut ended: Vec<i64> = Vec::new();
    for r in rows {
        let d: Value = serde_json::from_str(&r.details).unwrap_or(Value::Null);
        let attempt = d["attempt"].as_i64().unwrap_or(1);
        let tokens = |k: &str| d[k].as_i64().unwrap_or(0);
        match out.last_mut() {
            Some(g) if attempt > 1 && g.outcome != "valid" => {
                g.attempts = attempt;
                g.tokens_in += tokens("tokensIn");
                g.tokens_out += tokens("tokensOut");
                g.outcome = d["outcome"].as_str().unwrap_or("").to_owned();
                if let Some(t) = ended.last_mut() {
                    *t = r.at;
                }
            }
            _ => {
                ended.push(r.at);
                out.push(Generation {
                    started_by: r.actor.clone(),
                    model: d["model"].as_str().map(str::to_owned),
                    request: d["request"].as_str().map(str::to_owned),
                    attempts: attempt,
                    tokens_in: tokens("tokensIn"),
                    tokens_out: tokens("tokensOut"),
                    outcome: d["outcome"].as_str().unwrap_or("").to_owned(),
                    version: None,
                    at: rfc3339(r.at),
                })
            }
        }
    }
    // A valid generation is saved as the next AI version its starter made after it.
    let mut ai: Vec<_> = store::modules::versions(&app.db, module_id)
        .await?
        .into_iter()
        .filter(|v| v.source == modules::Source::Ai)
        .collect();
    ai.reverse();
    let mut next = 0;
    for (g, at) in out.iter_mut().zip(ended) {
        if g.outcome != "valid" {
            continue;
        }
        if let Some(i) = ai[next..]
            .iter()
            .position(|v| v.created_at >= at && Some(&v.author) == g.started_by.as_ref())
        {
            g.version = Some(ai[next + i].number);
            next += i + 1;
        }
    }
    Ok(out)
}

/// What `by` may do with `review`, each `None` when allowed.
async fn allowed(app: &App, by: &Caller, review: &Review, status: Status) -> AppResult<Allowed> {
    let authors: BTreeSet<String> =
        store::reviews::authors_since_approval(&app.db, &review.module_id)
            .await?
            .into_iter()
            .collect();
    let ask = |action: Action| {
        lifecycle::next(status, action, facts_for(by, action, review, &authors))
            .err()
            .map(|r| r.to_string())
            .or_else(|| {
                (!review.status.is_open()).then(|| format!("the review is {}", review.status))
            })
    };
    Ok(Allowed {
        claim: ask(Action::Claim),
        approve: ask(Action::Approve),
        reject: ask(Action::Reject),
        withdraw: ask(Action::Withdraw),
    })
}

pub async fn get(app: &App, by: &Caller, id: &str) -> AppResult<ReviewDetail> {
    require_reader(by)?;
    let review = find(app, id).await?;
    let module = store::modules::get(&app.db, &review.module_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("module {}", review.module_id)))?;
    let version: VersionView = store::modules::version(&app.db, &review.module_id, review.version)
        .await?
        .ok_or_else(|| {
            AppError::not_found(format!(
                "version {} of module {}",
                review.version, review.module_id
            ))
        })?
        .into();
    let live = crate::live::for_module(app, &review.module_id).await?;
    let patch_text = match &version.patch {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    let spec_diff = patch::check(&live, patch_text.as_bytes())
        .spec
        .map(|s| patch::unified_diff(&live, &s))
        .unwrap_or_default();
    let (test_run, test_report) = match &review.test_run_id {
        Some(run) => match store::test_runs::get(&app.db, run).await? {
            Some(r) => (
                Some(RunView::from(&r)),
                serde_json::from_str(&r.report).unwrap_or(Value::Null),
            ),
            None => (None, Value::Null),
        },
        None => (None, Value::Null),
    };
    let allowed = allowed(app, by, &review, module.status).await?;
    let history = store::reviews::for_module(&app.db, &review.module_id)
        .await?
        .into_iter()
        .filter(|r| r.id != review.id)
        .map(|r| view_of(r, module.name.clone()))
        .collect();
    let comments = store::reviews::comments(&app.db, id)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let versions = store::modules::versions(&app.db, &review.module_id)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(ReviewDetail {
        generations: generations(app, &review.module_id).await?,
        module: modules::view(app, module.clone()).await?,
        review: view_of(review, module.name),
        version_info: version,
        spec_diff,
        test_run,
        test_report,
        versions,
        comments,
        history,
        allowed,
    })
}

/// Names the review's reviewers (administrators).
pub async fn assign(
    app: &App,
    by: &Caller,
    id: &str,
    reviewers: &[String],
) -> AppResult<ReviewView> {
    by.require(Permission::ReviewsAssign)?;
    let people = notifications::people(app).await?;
    let mut tx = app.db.begin().await?;
    let review = find_in(&mut tx, id).await?;
    if !review.status.is_open() {
        return Err(AppError::Conflict(Box::new(
            Problem::new(
                "wrong_status",
                format!(
                    "the review is {}; only open reviews get reviewers",
                    review.status
                ),
            )
            .detail("status", review.status),
        )));
    }
    let authors = authors_since_approval(&mut tx, &review.module_id).await?;
    let mut errs = FieldErrors::default();
    if reviewers.is_empty() {
        errs.add("reviewers", "name at least one reviewer");
    }
    let names = check_reviewers(reviewers, &people, &authors, &mut errs);
    errs.into_result()?;
    store::reviews::set_reviewers(&mut tx, id, &names).await?;
    let review = find_in(&mut tx, id).await?;
    let module = module_in(&mut tx, &review.module_id).await?;
    record(
        &mut tx,
        by,
        "review.assign",
        &review,
        json!({ "reviewers": names }),
    )
    .await?;
    let mut recipients: BTreeSet<String> = names.iter().cloned().collect();
    recipients.insert(review.submitted_by.clone());
    commit_announcing(
        app,
        tx,
        &people,
        by,
        "review.assigned",
        &module,
        &review,
        recipients,
    )
    .await?;
    view(app, review).await
}

async fn module_in(tx: &mut Tx, id: &str) -> AppResult<modules::Module> {
    store::modules::get_in(tx, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("module {id}")))
}

/// An open review about to move, read in the move's transaction, with its module, the
/// status the lifecycle gives the module, and the people who may hear of it.
struct Move {
    tx: Tx,
    review: Review,
    module: modules::Module,
    status: Status,
    people: Vec<User>,
}

/// Reads the review in a new transaction and asks the lifecycle whether `by` may do
/// `action` (four-eyes, assignment and the submitter's withdrawal included).
async fn begin_move(app: &App, by: &Caller, id: &str, action: Action) -> AppResult<Move> {
    by.require(action.permission())?;
    let people = notifications::people(app).await?;
    let mut tx = app.db.begin().await?;
    let review = find_in(&mut tx, id).await?;
    let module = module_in(&mut tx, &review.module_id).await?;
    if !review.status.is_open() {
        return Err(moved(&review));
    }
    let authors = authors_since_approval(&mut tx, &review.module_id).await?;
    let status = lifecycle::next(
        module.status,
        action,
        facts_for(by, action, &review, &authors),
    )?;
    Ok(Move {
        tx,
        review,
        module,
        status,
        people,
    })
}

impl Move {
    /// Moves the module, then the review, in this order — the order a save takes them
    /// too — so that concurrent transactions on PostgreSQL never wait on each other in
    /// a cycle. Of two concurrent moves of one review, the second finds it moved: 409.
    async fn apply(&mut self, to: ReviewStatus, d: Decision<'_>) -> AppResult<()> {
        store::modules::set_status(&mut self.tx, &self.module.id, self.status).await?;
        if !store::reviews::transition(&mut self.tx, &self.review.id, OPEN, to, d).await? {
            let now = store::reviews::get_in(&mut self.tx, &self.review.id)
                .await?
                .unwrap_or_else(|| self.review.clone());
            return Err(moved(&now));
        }
        self.review = find_in(&mut self.tx, &self.review.id).await?;
        Ok(())
    }

    /// Audits, announces `event` to `recipients`, commits, and wakes the workers.
    async fn finish(
        mut self,
        app: &App,
        by: &Caller,
        audit_action: &str,
        details: Value,
        event: &'static str,
        recipients: BTreeSet<String>,
    ) -> AppResult<ReviewView> {
        record(&mut self.tx, by, audit_action, &self.review, details).await?;
        commit_announcing(
            app,
            self.tx,
            &self.people,
            by,
            event,
            &self.module,
            &self.review,
            recipients,
        )
        .await?;
        view(app, self.review).await
    }
}

/// A reviewer takes the review: it moves to `reviewing` and names them.
pub async fn claim(app: &App, by: &Caller, id: &str) -> AppResult<ReviewView> {
    let mut m = begin_move(app, by, id, Action::Claim).await?;
    m.apply(ReviewStatus::Reviewing, Decision::default())
        .await?;
    let mut names = m.review.reviewers.clone();
    if !names.contains(&by.username) {
        names.push(by.username.clone());
        store::reviews::set_reviewers(&mut m.tx, id, &names).await?;
        m.review.reviewers = names.clone();
    }
    let recipients = module_people(app, &m.module, &m.review).await?;
    m.finish(
        app,
        by,
        "review.claim",
        json!({ "reviewers": names }),
        "review.claimed",
        recipients,
    )
    .await
}

/// Someone else decided (or the review closed) between reading and writing.
fn moved(r: &Review) -> AppError {
    AppError::Conflict(Box::new(
        Problem::new(
            "conflict",
            format!(
                "the review is {} now: someone acted on it at the same moment; reload it",
                r.status
            ),
        )
        .detail("status", r.status),
    ))
}

/// Approves the version under review (bound to its content hash).
pub async fn approve(
    app: &App,
    by: &Caller,
    id: &str,
    note: Option<&str>,
) -> AppResult<ReviewView> {
    let note = note.map(str::trim).filter(|s| !s.is_empty());
    if note.is_some_and(|n| n.chars().count() > NOTE_MAX) {
        return Err(AppError::invalid(
            "note",
            format!("must be at most {NOTE_MAX} characters"),
        ));
    }
    let mut m = begin_move(app, by, id, Action::Approve).await?;
    check_hash(app, &m.review).await?;
    m.apply(ReviewStatus::Approved, decision("approved", note, by))
        .await?;
    let mut recipients = module_people(app, &m.module, &m.review).await?;
    recipients.extend(
        m.people
            .iter()
            .filter(|u| u.roles.contains(&PlatformRole::Admin))
            .map(|u| u.username.clone()),
    );
    m.finish(
        app,
        by,
        "review.approve",
        json!({ "note": note }),
        "review.approved",
        recipients,
    )
    .await
}

/// Rejects with a reason; the module goes back to draft.
pub async fn reject(app: &App, by: &Caller, id: &str, reason: &str) -> AppResult<ReviewView> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid(
            "reason",
            "say why the version is rejected",
        ));
    }
    if reason.chars().count() > NOTE_MAX {
        return Err(AppError::invalid(
            "reason",
            format!("must be at most {NOTE_MAX} characters"),
        ));
    }
    let mut m = begin_move(app, by, id, Action::Reject).await?;
    m.apply(
        ReviewStatus::Rejected,
        decision("rejected", Some(reason), by),
    )
    .await?;
    let recipients = module_people(app, &m.module, &m.review).await?;
    m.finish(
        app,
        by,
        "review.reject",
        json!({ "reason": reason }),
        "review.rejected",
        recipients,
    )
    .await
}

fn decision<'a>(what: &'a str, reason: Option<&'a str>, by: &'a Caller) -> Decision<'a> {
    Decision {
        decision: Some(what),
        reason,
        by: Some(&by.username),
    }
}

/// The version must still be what was submitted. Versions are immutable, so this never
/// fails unless the database was changed behind our back — and then no approval.
async fn check_hash(app: &App, review: &Review) -> AppResult<()> {
    let v = store::modules::version(&app.db, &review.module_id, review.version).await?;
    if v.as_ref().map(|v| &v.content_hash) != Some(&review.content_hash) {
        return Err(AppError::Internal(anyhow::anyhow!(
            "review {}: the version's content hash differs from the submitted one",
            review.id
        )));
    }
    Ok(())
}

/// The submitter takes the review back; the module returns to draft.
pub async fn withdraw(app: &App, by: &Caller, id: &str) -> AppResult<ReviewView> {
    let mut m = begin_move(app, by, id, Action::Withdraw).await?;
    m.apply(ReviewStatus::Withdrawn, Decision::default())
        .await?;
    let recipients = review_people(&m.people, &m.review);
    m.finish(
        app,
        by,
        "review.withdraw",
        json!({}),
        "review.withdrawn",
        recipients,
    )
    .await
}

/// Called by a save inside its transaction: an open review of the module is overtaken
/// by the new version. Returns the users to signal after the commit.
pub(crate) async fn supersede_open(
    app: &App,
    tx: &mut Tx,
    by: &Caller,
    module: &modules::Module,
) -> AppResult<Vec<String>> {
    let Some(review) = store::reviews::open_for_module_in(tx, &module.id).await? else {
        return Ok(Vec::new());
    };
    if !store::reviews::transition(
        tx,
        &review.id,
        OPEN,
        ReviewStatus::Superseded,
        Decision::default(),
    )
    .await?
    {
        return Ok(Vec::new());
    }
    let review = find_in(tx, &review.id).await?;
    record(
        tx,
        by,
        "review.supersede",
        &review,
        json!({ "newVersion": module.current_version + 1 }),
    )
    .await?;
    let people = notifications::people(app).await?;
    let mut recipients = review_people(&people, &review);
    recipients.insert(review.submitted_by.clone());
    announce(
        app,
        tx,
        &people,
        by,
        "review.superseded",
        module,
        &review,
        recipients,
    )
    .await
}

/// A new comment.
#[derive(Debug, Clone, Default)]
pub struct CommentInput {
    pub body: String,
    pub operation: Option<i64>,
    pub reply_to: Option<String>,
}

pub async fn comment(
    app: &App,
    by: &Caller,
    id: &str,
    input: CommentInput,
) -> AppResult<CommentView> {
    require_reader(by)?;
    let review = find(app, id).await?;
    let mut errs = FieldErrors::default();
    let body = input.body.trim();
    if body.is_empty() {
        errs.add("body", "is empty");
    } else if body.chars().count() > COMMENT_MAX {
        errs.add("body", format!("must be at most {COMMENT_MAX} characters"));
    }
    if let Some(op) = input.operation {
        let v = store::modules::version(&app.db, &review.module_id, review.version).await?;
        let count = v
            .and_then(|v| serde_json::from_str::<Value>(&v.patch).ok())
            .and_then(|p| p["operations"].as_array().map(Vec::len))
            .unwrap_or(0) as i64;
        if op < 0 || op >= count {
            errs.add(
                "operation",
                format!(
                    "version {} has operations 0 to {}; there is no operation {op}",
                    review.version,
                    count - 1
                ),
            );
        }
    }
    let people = notifications::people(app).await?;
    let mut tx = app.db.begin().await?;
    if let Some(parent) = &input.reply_to
        && store::reviews::comment_in(&mut tx, id, parent)
            .await?
            .is_none()
    {
        errs.add("replyTo", format!("review {id} has no comment {parent}"));
    }
    errs.into_result()?;
    let c = Comment {
        id: new_id(),
        review_id: id.to_owned(),
        author: by.username.clone(),
        body: body.to_owned(),
        operation: input.operation,
        reply_to: input.reply_to.clone(),
        resolved: false,
        resolved_by: None,
        resolved_at: None,
        created_at: now_ms(),
    };
    store::reviews::insert_comment(&mut tx, &c).await?;
    record(
        &mut tx,
        by,
        "review.comment",
        &review,
        json!({ "comment": c.id, "operation": c.operation, "replyTo": c.reply_to }),
    )
    .await?;
    let module = module_in(&mut tx, &review.module_id).await?;
    let mut recipients = module_people(app, &module, &review).await?;
    recipients.extend(review.reviewers.iter().cloned());
    recipients.extend(review.decided_by.iter().cloned());
    recipients.extend(
        store::reviews::comments(&app.db, id)
            .await?
            .into_iter()
            .map(|c| c.author),
    );
    commit_announcing(
        app,
        tx,
        &people,
        by,
        "review.commented",
        &module,
        &review,
        recipients,
    )
    .await?;
    Ok(c.into())
}

pub async fn resolve_comment(
    app: &App,
    by: &Caller,
    id: &str,
    comment_id: &str,
) -> AppResult<CommentView> {
    require_reader(by)?;
    let review = find(app, id).await?;
    let mut tx = app.db.begin().await?;
    let c = store::reviews::comment_in(&mut tx, id, comment_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("comment {comment_id} of review {id}")))?;
    if !store::reviews::resolve_comment(&mut tx, comment_id, &by.username).await? {
        return Err(AppError::conflict(format!(
            "comment {comment_id} is resolved already"
        )));
    }
    record(
        &mut tx,
        by,
        "review.comment_resolve",
        &review,
        json!({ "comment": c.id }),
    )
    .await?;
    let c = store::reviews::comment_in(&mut tx, id, comment_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("comment {comment_id}")))?;
    tx.commit().await?;
    Ok(c.into())
}

//! The live spec: the base CRM plus the patches of the published modules, in publish
//! order, as recorded in `spec_versions`.
//!
//! [`recompute`] is its one writer, inside the transaction of whatever changes the
//! published set. Start-up only loads what is stored: were the stored spec to differ
//! from what `recompute` would produce (a new base CRM after an upgrade, a database
//! edited by hand), the difference is logged and the stored spec keeps being served
//! — silently rewriting it would unpublish modules. `modgate spec verify` reports the
//! same difference. Every replica polls the cheap `MAX(number)` and swaps in a newer
//! version, so a change reaches all of them within [`POLL`].

use crate::error::{AppError, AppResult, Problem};
use llm::CancellationToken;
use patch::PatchDocument;
use serde::Serialize;
use spec::Spec;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use store::spec_versions::SpecVersion;
use store::{Db, Tx};

/// How often replicas look for a new spec version.
pub const POLL: Duration = Duration::from_millis(250);

/// One version of the live spec.
#[derive(Debug, Clone, Serialize)]
pub struct Live {
    pub number: i64,
    pub hash: String,
    pub spec: Arc<Spec>,
}

/// The live spec shared by every use case of this process.
#[derive(Debug)]
pub struct LiveSpec {
    current: RwLock<Arc<Live>>,
}

/// One published module version in the live spec.
#[derive(Debug, Clone)]
pub struct Part {
    pub module_id: String,
    pub version: i64,
    pub position: i64,
    pub doc: PatchDocument,
}

/// The published module versions, in publish order, as the transaction sees them.
pub async fn published(tx: &mut Tx) -> AppResult<Vec<Part>> {
    let mut out = Vec::new();
    for p in store::publications::list_in(tx).await? {
        if p.status != store::publications::PublicationStatus::Published {
            continue;
        }
        out.push(part(tx, &p.module_id, p.version, p.position).await?);
    }
    Ok(out)
}

/// A module version as a part of the live spec.
pub async fn part(tx: &mut Tx, module_id: &str, version: i64, position: i64) -> AppResult<Part> {
    let v = store::modules::version_in(tx, module_id, version)
        .await?
        .ok_or_else(|| AppError::not_found(format!("version {version} of module {module_id}")))?;
    let doc = patch::parse(v.patch.as_bytes()).map_err(|r| {
        AppError::Internal(anyhow::anyhow!(
            "published version {version} of module {module_id} does not parse: {:?}",
            r.errors.first().map(|e| &e.message)
        ))
    })?;
    Ok(Part {
        module_id: module_id.to_owned(),
        version,
        position,
        doc,
    })
}

/// The spec a module's versions are written against: the live spec, or — when the
/// module is published — the live spec without it, so that a new version replaces
/// the published one instead of colliding with it.
pub async fn for_module(app: &crate::App, module_id: &str) -> AppResult<Arc<Spec>> {
    let live = app.live.get().spec.clone();
    let pubs = store::publications::list(&app.db).await?;
    let published = |p: &store::publications::Publication| {
        p.status == store::publications::PublicationStatus::Published
    };
    if !pubs
        .iter()
        .any(|p| p.module_id == module_id && published(p))
    {
        return Ok(live);
    }
    let mut tx = app.db.begin().await?;
    let mut parts = Vec::new();
    for p in pubs
        .iter()
        .filter(|p| p.module_id != module_id && published(p))
    {
        parts.push(part(&mut tx, &p.module_id, p.version, p.position).await?);
    }
    drop(tx);
    Ok(Arc::new(compose(&parts)?))
}

/// The spec the base CRM and the published parts compose to.
pub fn compose_parts(parts: &[Part]) -> Result<Spec, patch::ComposeError> {
    patch::compose(&spec::base_spec(), parts.iter().map(|p| &p.doc))
}

/// The spec the base CRM and the published patches compose to.
fn compose(parts: &[Part]) -> AppResult<Spec> {
    compose_parts(parts).map_err(|e| {
        AppError::Conflict(Box::new(
            Problem::new("compose_failed", e.to_string())
                .detail("patch", e.index)
                .detail("errors", &e.report.errors),
        ))
    })
}

/// The outcome of a [`recompute`].
#[derive(Debug, Clone)]
pub struct Recomputed {
    pub version: SpecVersion,
    /// Whether a new version was recorded (the composed spec differed from the last).
    pub changed: bool,
}

/// Composes the base CRM and the published modules in publish order inside `tx`,
/// and records a new spec version when the result differs from the stored one. The
/// caller commits it together with the change that made it necessary.
pub async fn recompute(tx: &mut Tx, cause: &str) -> AppResult<Recomputed> {
    let spec = compose(&published(tx).await?)?;
    let before = store::spec_versions::latest_in(tx).await?;
    let (version, changed) =
        store::spec_versions::record_in(tx, &spec.to_pretty_json(), cause).await?;
    if changed && let Some(before) = before {
        let before = spec::parse(&before.content).map_err(|e| {
            AppError::Internal(anyhow::anyhow!("the stored live spec does not parse: {e}"))
        })?;
        number_new_fields(tx, &before, &spec).await?;
    }
    Ok(Recomputed { version, changed })
}

/// A field that has just become numbered numbers the records that have none, in
/// creation order, in the transaction that makes it live (docs/spec.md).
async fn number_new_fields(tx: &mut Tx, before: &Spec, after: &Spec) -> AppResult<()> {
    for (object, def) in &after.objects {
        for (field, f) in &def.fields {
            let Some(numbering) = &f.auto_number else {
                continue;
            };
            let was = before
                .objects
                .get(object)
                .and_then(|o| o.fields.get(field))
                .and_then(|f| f.auto_number.as_ref());
            if was.is_none() {
                let n =
                    store::records::number_missing(tx, object, field, numbering, store::now_ms())
                        .await
                        .map_err(|e| {
                            AppError::Internal(anyhow::anyhow!("numbering {object}.{field}: {e:?}"))
                        })?;
                tracing::info!(object, field, numbered = n, "numbered existing records");
            }
        }
    }
    Ok(())
}

/// How the stored live spec compares with what [`recompute`] would produce.
#[derive(Debug, Clone, Serialize)]
pub struct Drift {
    /// The stored version compared (0 when none is stored).
    pub stored_version: i64,
    /// Each difference in words; empty when they agree.
    pub differences: Vec<String>,
}

impl Drift {
    pub fn holds(&self) -> bool {
        self.differences.is_empty()
    }

    /// One message naming the differences, for logs and the command line.
    pub fn message(&self) -> String {
        if self.stored_version == 0 {
            return "no live spec is stored yet; the first start records it".into();
        }
        if self.holds() {
            return format!(
                "the stored live spec (version {}) is what the base CRM and the published modules compose to",
                self.stored_version
            );
        }
        const SHOWN: usize = 10;
        let mut list = self
            .differences
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        if self.differences.len() > SHOWN {
            list.push_str(&format!("; and {} more", self.differences.len() - SHOWN));
        }
        format!(
            "the stored live spec (version {}) differs from what the base CRM and the published modules compose to: {list}. \
             It is kept and served as it is; `modgate spec upgrade`, or publishing, unpublishing or rolling back a module, records a new one",
            self.stored_version
        )
    }
}

/// Compares the stored live spec with the composition of the base CRM and the
/// published modules; changes nothing.
pub async fn verify(db: &Db) -> AppResult<Drift> {
    let mut tx = db.begin().await?;
    let expected = compose(&published(&mut tx).await?)?;
    let stored = store::spec_versions::latest_in(&mut tx).await?;
    drop(tx);
    let Some(stored) = stored else {
        return Ok(Drift {
            stored_version: 0,
            differences: Vec::new(),
        });
    };
    if stored.hash == store::spec_versions::hash_of(&expected.to_pretty_json()) {
        return Ok(Drift {
            stored_version: stored.number,
            differences: Vec::new(),
        });
    }
    let differences = match spec::parse(&stored.content) {
        Ok(s) => spec::differences(&s, &expected)
            .iter()
            .map(|d| d.describe("the stored spec", "the composed spec"))
            .collect(),
        Err(e) => vec![format!("the stored spec cannot be read: {e}")],
    };
    // Equal in substance, different in text (say, key order): still a difference
    // worth naming, since the hashes disagree.
    let differences = if differences.is_empty() {
        vec!["the same definitions, written differently".to_owned()]
    } else {
        differences
    };
    Ok(Drift {
        stored_version: stored.number,
        differences,
    })
}

/// Indexes help lists; failing to create one (two replicas racing) is not fatal.
async fn index(db: &Db, spec: &Spec) {
    if let Err(e) = store::records::ensure_indexes(db, spec).await {
        tracing::warn!(error = %e, "could not create record indexes");
    }
    if let Err(e) = store::records::analyze(db).await {
        tracing::warn!(error = %e, "could not refresh planner statistics");
    }
}

fn live_of(v: SpecVersion) -> anyhow::Result<Live> {
    let spec = spec::parse(&v.content)
        .map_err(|e| anyhow::anyhow!("stored spec version {} is invalid: {e}", v.number))?;
    Ok(Live {
        number: v.number,
        hash: v.hash,
        spec: Arc::new(spec),
    })
}

impl LiveSpec {
    /// Loads the stored live spec. A fresh database gets its first version from
    /// [`recompute`]; a stored one is never rewritten here, and a drift from what
    /// `recompute` would produce is logged as an error naming the differences.
    pub async fn open(db: &Db) -> anyhow::Result<LiveSpec> {
        let stored = match store::spec_versions::latest(db).await? {
            Some(v) => {
                match verify(db).await {
                    Ok(d) if !d.holds() => tracing::error!("{}", d.message()),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "could not compare the live spec"),
                }
                v
            }
            None => {
                let mut tx = db.begin().await?;
                let r = recompute(&mut tx, "first start: the base CRM")
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                tx.commit().await?;
                r.version
            }
        };
        let live = live_of(stored)?;
        index(db, &live.spec).await;
        Ok(LiveSpec {
            current: RwLock::new(Arc::new(live)),
        })
    }

    pub fn get(&self) -> Arc<Live> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Swaps in the newest stored version if it is newer than ours.
    pub async fn refresh(&self, db: &Db) -> anyhow::Result<bool> {
        let newest = store::spec_versions::latest_number(db).await?;
        if newest <= self.get().number {
            return Ok(false);
        }
        let Some(v) = store::spec_versions::latest(db).await? else {
            return Ok(false);
        };
        let cause = v.cause.clone();
        let live = live_of(v)?;
        index(db, &live.spec).await;
        tracing::info!(version = live.number, cause = %cause, "live spec changed");
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(live);
        Ok(true)
    }

    /// Polls for new versions until `stop` is cancelled; await the handle to know
    /// the poller has ended.
    pub fn watch(self: Arc<Self>, db: Db, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(POLL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tick.tick() => {}
                }
                if let Err(e) = self.refresh(&db).await {
                    tracing::warn!(error = %e, "could not check for a new live spec");
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn recompute_writes_in_the_callers_transaction_and_only_what_differs() {
        let (db, _t) = store::testing::fresh_db().await.unwrap();
        // Rolled back with its caller: nothing recorded.
        {
            let mut tx = db.begin().await.unwrap();
            let r = recompute(&mut tx, "rolled back").await.unwrap();
            assert!(r.changed);
        }
        assert_eq!(store::spec_versions::latest_number(&db).await.unwrap(), 0);

        let mut tx = db.begin().await.unwrap();
        let first = recompute(&mut tx, "first").await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!((first.version.number, first.changed), (1, true));
        let mut tx = db.begin().await.unwrap();
        let again = recompute(&mut tx, "again").await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!((again.version.number, again.changed), (1, false));
        assert!(verify(&db).await.unwrap().holds());
    }

    #[tokio::test]
    async fn opening_keeps_a_stored_spec_that_differs_and_says_how() {
        let (db, _t) = store::testing::fresh_db().await.unwrap();
        let fresh = LiveSpec::open(&db).await.unwrap();
        assert_eq!(fresh.get().number, 1);
        let mut other = spec::base_spec();
        other.objects.get_mut("Order").unwrap().label = "Purchase".into();
        store::spec_versions::record(&db, &other.to_pretty_json(), "by hand")
            .await
            .unwrap();

        let reopened = LiveSpec::open(&db).await.unwrap();
        let live = reopened.get();
        assert_eq!(live.number, 2);
        assert_eq!(live.spec.objects["Order"].label, "Purchase");
        assert_eq!(store::spec_versions::latest_number(&db).await.unwrap(), 2);
        let drift = verify(&db).await.unwrap();
        assert!(!drift.holds());
        assert_eq!(
            drift.differences,
            ["the definition of object Order differs"]
        );
        assert!(drift.message().contains("version 2"), "{}", drift.message());
    }
}

//! The live spec: base CRM + published patches, as recorded in `spec_versions`.
//! Every replica polls the cheap `MAX(number)` and swaps in a newer spec, so a change
//! takes effect everywhere within the poll interval, without a restart.

use serde::Serialize;
use spec::Spec;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use store::Db;

/// One version of the live spec.
#[derive(Debug, Clone, Serialize)]
pub struct Live {
    pub number: i64,
    pub hash: String,
    pub spec: Arc<Spec>,
}

/// The live spec shared by all requests of this process.
#[derive(Debug)]
pub struct LiveSpec {
    current: RwLock<Arc<Live>>,
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

/// How often replicas look for a new spec version.
pub const POLL: Duration = Duration::from_millis(250);

impl LiveSpec {
    /// Loads the newest version, first recording the composed spec (base + published
    /// modules) when it differs from what is stored — e.g. after an upgrade.
    pub async fn load(db: &Db) -> anyhow::Result<LiveSpec> {
        let composed = patch::compose(&spec::base_spec(), std::iter::empty())?;
        let text = composed.to_pretty_json();
        let stored = store::spec_versions::latest(db).await?;
        let v = match stored {
            Some(v) if v.hash == store::spec_versions::hash_of(&text) => v,
            _ => {
                store::spec_versions::record(db, &text, "start-up: base CRM + published modules")
                    .await?
            }
        };
        let spec = spec::parse(&v.content)
            .map_err(|e| anyhow::anyhow!("stored spec version {} is invalid: {e}", v.number))?;
        index(db, &spec).await;
        Ok(LiveSpec {
            current: RwLock::new(Arc::new(Live {
                number: v.number,
                hash: v.hash,
                spec: Arc::new(spec),
            })),
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
        let spec = spec::parse(&v.content)
            .map_err(|e| anyhow::anyhow!("spec version {} is invalid: {e}", v.number))?;
        index(db, &spec).await;
        tracing::info!(version = v.number, cause = %v.cause, "live spec changed");
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(Live {
            number: v.number,
            hash: v.hash,
            spec: Arc::new(spec),
        });
        Ok(true)
    }

    /// Polls for new versions until the process ends.
    pub fn watch(self: Arc<Self>, db: Db) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(POLL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = self.refresh(&db).await {
                    tracing::warn!(error = %e, "could not check for a new live spec");
                }
            }
        });
    }
}

//! A short-lived cache of resolved identities, so that an authenticated request does
//! not cost a token (or session) and a user query before its real work. Any change to users, sessions or tokens
//! made through this process clears it at once; other replicas see the change when
//! their entries expire (`TTL`).

use crate::Caller;
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// How long a resolved identity is trusted without asking the database again.
pub const TTL: Duration = Duration::from_secs(5);
/// Entries kept at most; past that the cache starts over (cheap and bounded).
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Default)]
pub struct IdentityCache {
    entries: RwLock<HashMap<String, (Instant, Caller)>>,
}

impl IdentityCache {
    pub fn get(&self, key: &str) -> Option<Caller> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, u)| u.clone())
    }

    pub fn put(&self, key: String, user: Caller) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (Instant::now(), user));
    }

    /// Forgets everything: called after any change to who may do what.
    pub fn clear(&self) {
        self.entries
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

//! What a patch changes: a structured list for people and tools, and a unified diff
//! of the pretty-printed spec for reviewers.

use serde::{Deserialize, Serialize};
use spec::Spec;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeAction {
    Added,
    Removed,
    Changed,
    Reordered,
}

/// One change to the spec, made by operation `op`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub op: usize,
    pub action: ChangeAction,
    /// `object`, `field`, `stateFlow`, `state`, `transition`, `page`, `role`, `grants`, `menu`.
    pub kind: String,
    /// What changed, e.g. `Customer.loyaltyPoints`.
    pub name: String,
    /// JSON pointer into the spec.
    pub path: String,
}

/// A unified diff (3 lines of context) between two specs' pretty JSON.
pub fn unified_diff(before: &Spec, after: &Spec) -> String {
    let a = before.to_pretty_json();
    let b = after.to_pretty_json();
    similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(3)
        .header("spec (before)", "spec (after)")
        .to_string()
}

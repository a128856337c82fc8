use serde::{Deserialize, Serialize};
use std::fmt;

/// Security level of an operation or a patch (DESIGN §4).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub enum Level {
    /// Safe: additive and reversible.
    #[default]
    L1,
    /// Needs explicit confirmation: can reject, hide or expose existing data.
    L2,
    /// Blocked: never saved as valid.
    L3,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::L1 => "L1",
            Level::L2 => "L2",
            Level::L3 => "L3",
        })
    }
}

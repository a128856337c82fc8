use serde::{Deserialize, Serialize};
use std::fmt;

/// Security level of an operation or a patch (docs/patch-dsl.md).
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

impl std::str::FromStr for Level {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "L1" => Ok(Level::L1),
            "L2" => Ok(Level::L2),
            "L3" => Ok(Level::L3),
            other => Err(format!("'{other}' is not a security level (L1, L2 or L3)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Level;

    #[test]
    fn levels_read_back_as_written() {
        for l in [Level::L1, Level::L2, Level::L3] {
            assert_eq!(l.to_string().parse::<Level>(), Ok(l));
        }
        assert!("l1".parse::<Level>().is_err());
    }
}

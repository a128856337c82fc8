//! The module lifecycle (docs/module-development.md, "Lifecycle") as one pure
//! function: a module's status, an action, and the facts about who acts and about
//! the version give the next status, or a refusal saying why. Every use case that
//! moves a module asks it; no handler or query decides a status.
//!
//! ```text
//! draft ──submit──▶ pending_review ──claim──▶ reviewing ──approve──▶ approved ──publish──▶ published
//!   ▲                     │                      │                                  ▲  │
//!   └──────revise─────────┴────────reject────────┘                     republish/rollback  unpublish
//!                                                                                   │  ▼
//!                                                                               unpublished
//! ```
//!
//! Today it knows saving a version and testing one; review and publishing add their
//! actions here.

use access::Permission;
use patch::Level;
pub use store::ModuleStatus as Status;

/// What someone wants to do with a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Save a new version (a person's edit, a model's answer, a restore).
    Save,
    /// Run the tests of a version.
    Test,
}

impl Action {
    pub const ALL: [Action; 2] = [Action::Save, Action::Test];

    /// The permission the action needs.
    pub fn permission(self) -> Permission {
        match self {
            Action::Save => Permission::ModulesDevelop,
            Action::Test => Permission::ModulesTest,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Save => "save",
            Action::Test => "test",
        }
    }
}

/// What is known about the version an action concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionFacts {
    pub number: i64,
    /// The validator accepted it.
    pub valid: bool,
    pub level: Level,
}

/// The facts an action is judged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// Whether the actor holds the action's permission.
    pub permitted: bool,
    /// The version the action concerns; `None` when the module has none (yet).
    pub version: Option<VersionFacts>,
}

/// Why an action is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The actor lacks the permission.
    NotPermitted(Permission),
    /// The action needs a version and the module has none.
    NoVersion,
    /// The version is invalid (or blocked, L3) and cannot be used for this.
    InvalidVersion { number: i64, level: Level },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NotPermitted(p) => write!(f, "this needs the '{p}' permission"),
            Refusal::NoVersion => {
                f.write_str("the module has no version yet; save or generate one first")
            }
            Refusal::InvalidVersion { number, .. } => write!(
                f,
                "version {number} is invalid and cannot be tested; fix the patch and save a new version"
            ),
        }
    }
}

/// The status a module moves to when `action` happens, given `facts`; or why it may
/// not happen.
pub fn next(status: Status, action: Action, facts: Facts) -> Result<Status, Refusal> {
    if !facts.permitted {
        return Err(Refusal::NotPermitted(action.permission()));
    }
    match action {
        // Any new version returns the module to draft: what was tested, reviewed or
        // approved was another version.
        Action::Save => Ok(Status::Draft),
        Action::Test => match facts.version {
            None => Err(Refusal::NoVersion),
            Some(v) if !v.valid || v.level == Level::L3 => Err(Refusal::InvalidVersion {
                number: v.number,
                level: v.level,
            }),
            // Testing records a result; it moves nothing.
            Some(_) => Ok(status),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: VersionFacts = VersionFacts {
        number: 2,
        valid: true,
        level: Level::L1,
    };
    const INVALID: VersionFacts = VersionFacts {
        number: 3,
        valid: false,
        level: Level::L1,
    };
    const BLOCKED: VersionFacts = VersionFacts {
        number: 4,
        valid: true,
        level: Level::L3,
    };

    fn facts(permitted: bool, version: Option<VersionFacts>) -> Facts {
        Facts { permitted, version }
    }

    /// Every status × action × kind of version, with the one expected outcome.
    #[test]
    fn every_status_and_action() {
        let versions: [(&str, Option<VersionFacts>); 4] = [
            ("none", None),
            ("valid", Some(VALID)),
            ("invalid", Some(INVALID)),
            ("blocked", Some(BLOCKED)),
        ];
        let mut cases = 0;
        for &status in Status::ALL {
            for action in Action::ALL {
                for (kind, version) in versions {
                    let got = next(status, action, facts(true, version));
                    let want = match (action, kind) {
                        (Action::Save, _) => Ok(Status::Draft),
                        (Action::Test, "none") => Err(Refusal::NoVersion),
                        (Action::Test, "valid") => Ok(status),
                        (Action::Test, "invalid") => Err(Refusal::InvalidVersion {
                            number: 3,
                            level: Level::L1,
                        }),
                        (Action::Test, _) => Err(Refusal::InvalidVersion {
                            number: 4,
                            level: Level::L3,
                        }),
                    };
                    assert_eq!(got, want, "{status} × {} × {kind}", action.as_str());
                    // Without the permission, nothing happens, whatever the rest.
                    assert_eq!(
                        next(status, action, facts(false, version)),
                        Err(Refusal::NotPermitted(action.permission())),
                        "{status} × {} × {kind} unpermitted",
                        action.as_str()
                    );
                    cases += 2;
                }
            }
        }
        assert_eq!(cases, Status::ALL.len() * Action::ALL.len() * 4 * 2);
    }

    #[test]
    fn refusals_say_what_to_do() {
        assert!(Refusal::NoVersion.to_string().contains("save or generate"));
        assert!(
            Refusal::NotPermitted(Permission::ModulesTest)
                .to_string()
                .contains("modules.test")
        );
        assert!(
            Refusal::InvalidVersion {
                number: 3,
                level: Level::L1
            }
            .to_string()
            .contains("version 3")
        );
    }
}

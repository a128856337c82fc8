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
//! It knows saving, testing and the review actions; publishing adds its actions here.
//! Four-eyes (nobody decides on a module they wrote or generated since its last
//! approval) is part of the rule, so no path can forget it.

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
    /// Ask for a review of the current version (readiness is judged by the use case:
    /// it needs the test runs).
    Submit,
    /// A reviewer takes an open review.
    Claim,
    Approve,
    Reject,
    /// The submitter takes the review back.
    Withdraw,
    /// Make an approved version part of the live spec (上架).
    Publish,
    /// Take the module out of the live spec (下架).
    Unpublish,
    /// Publish an earlier version that was published before.
    Rollback,
}

impl Action {
    pub const ALL: [Action; 10] = [
        Action::Save,
        Action::Test,
        Action::Submit,
        Action::Claim,
        Action::Approve,
        Action::Reject,
        Action::Withdraw,
        Action::Publish,
        Action::Unpublish,
        Action::Rollback,
    ];

    /// The permission the action needs.
    pub fn permission(self) -> Permission {
        match self {
            Action::Save | Action::Submit | Action::Withdraw => Permission::ModulesDevelop,
            Action::Test => Permission::ModulesTest,
            Action::Claim | Action::Approve | Action::Reject => Permission::ModulesReview,
            Action::Publish | Action::Unpublish | Action::Rollback => Permission::ModulesPublish,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Save => "save",
            Action::Test => "test",
            Action::Submit => "submit",
            Action::Claim => "claim",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Withdraw => "withdraw",
            Action::Publish => "publish",
            Action::Unpublish => "unpublish",
            Action::Rollback => "rollback",
        }
    }

    /// A reviewer's decision (four-eyes applies).
    fn decides(self) -> bool {
        matches!(self, Action::Claim | Action::Approve | Action::Reject)
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
    /// The actor wrote a version of the module, or started one of its AI generations,
    /// since its last approval.
    pub authored: bool,
    /// The actor submitted the open review.
    pub submitter: bool,
    /// The open review names reviewers and the actor is not one of them.
    pub unassigned: bool,
    /// The version has an approval bound to its content hash.
    pub approved: bool,
    /// The version is the module's current (working) version.
    pub current: bool,
    /// The module is part of the live spec now.
    pub published: bool,
    /// The version was published before.
    pub was_published: bool,
}

impl Facts {
    /// Facts for an action that needs only the permission (and maybe a version).
    pub fn plain(permitted: bool, version: Option<VersionFacts>) -> Facts {
        Facts {
            permitted,
            version,
            authored: false,
            submitter: false,
            unassigned: false,
            approved: false,
            current: false,
            published: false,
            was_published: false,
        }
    }
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
    /// The module is not where the action can start.
    WrongStatus { status: Status, action: Action },
    /// The actor wrote or generated the module since its last approval.
    FourEyes,
    /// The review names other reviewers.
    NotAssigned,
    /// Only the submitter may withdraw a review.
    NotSubmitter,
    /// The version has no approval bound to its content.
    NotApproved { number: i64 },
    /// The module is not part of the live spec.
    NotPublished,
    /// Rollback goes only to a version that was published before.
    NeverPublished { number: i64 },
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
            Refusal::WrongStatus { status, action } => write!(
                f,
                "the module is {status}; it cannot be {} now{}",
                match action {
                    Action::Submit => "submitted",
                    Action::Claim => "claimed",
                    Action::Approve => "approved",
                    Action::Reject => "rejected",
                    Action::Withdraw => "withdrawn",
                    Action::Save => "saved",
                    Action::Test => "tested",
                    Action::Publish => "published",
                    Action::Unpublish => "unpublished",
                    Action::Rollback => "rolled back",
                },
                match (action, status) {
                    (Action::Submit, Status::PendingReview | Status::Reviewing) =>
                        " (it is under review already)",
                    (Action::Submit, _) => " (save a new version to submit again)",
                    _ => " (it has no open review)",
                }
            ),
            Refusal::FourEyes => f.write_str(
                "four-eyes: you wrote or generated a version of this module since its last approval, so someone else must decide",
            ),
            Refusal::NotAssigned => {
                f.write_str("this review is assigned to other reviewers")
            }
            Refusal::NotSubmitter => f.write_str("only the person who submitted it may withdraw a review"),
            Refusal::NotApproved { number } => write!(
                f,
                "version {number} has no approval bound to its content; submit it for review first"
            ),
            Refusal::NotPublished => f.write_str("the module is not published"),
            Refusal::NeverPublished { number } => write!(
                f,
                "version {number} was never published; rollback goes back to an earlier release (publish it instead)"
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
        Action::Submit => match (status, facts.version) {
            (Status::Draft, None) => Err(Refusal::NoVersion),
            (Status::Draft, Some(v)) if !v.valid || v.level == Level::L3 => {
                Err(Refusal::InvalidVersion {
                    number: v.number,
                    level: v.level,
                })
            }
            (Status::Draft, Some(_)) => Ok(Status::PendingReview),
            (status, _) => Err(Refusal::WrongStatus { status, action }),
        },
        // Publication is beside the working version: v1 can be live while v2 is in
        // review. The module shows `published` when its current version is live.
        Action::Publish | Action::Rollback => {
            let number = facts.version.map(|v| v.number).unwrap_or(0);
            if facts.version.is_none() {
                return Err(Refusal::NoVersion);
            }
            if !facts.approved {
                return Err(Refusal::NotApproved { number });
            }
            if action == Action::Rollback && !facts.was_published {
                return Err(Refusal::NeverPublished { number });
            }
            Ok(if facts.current {
                Status::Published
            } else {
                status
            })
        }
        Action::Unpublish => {
            if !facts.published {
                return Err(Refusal::NotPublished);
            }
            Ok(if status == Status::Published {
                Status::Unpublished
            } else {
                status
            })
        }
        Action::Claim | Action::Approve | Action::Reject | Action::Withdraw => {
            if !matches!(status, Status::PendingReview | Status::Reviewing) {
                return Err(Refusal::WrongStatus { status, action });
            }
            if action.decides() && facts.authored {
                return Err(Refusal::FourEyes);
            }
            // Claiming assigns the claimer, so only deciding needs an assignment.
            if matches!(action, Action::Approve | Action::Reject) && facts.unassigned {
                return Err(Refusal::NotAssigned);
            }
            if action == Action::Withdraw && !facts.submitter {
                return Err(Refusal::NotSubmitter);
            }
            Ok(match action {
                Action::Claim => Status::Reviewing,
                Action::Approve => Status::Approved,
                _ => Status::Draft,
            })
        }
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
        Facts::plain(permitted, version)
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
                    let open = matches!(status, Status::PendingReview | Status::Reviewing);
                    let want = match (action, kind) {
                        (Action::Save, _) => Ok(Status::Draft),
                        (Action::Submit, _) if status != Status::Draft => {
                            Err(Refusal::WrongStatus { status, action })
                        }
                        (Action::Submit, "none") => Err(Refusal::NoVersion),
                        (Action::Submit, "valid") => Ok(Status::PendingReview),
                        (Action::Submit, "invalid") => Err(Refusal::InvalidVersion {
                            number: 3,
                            level: Level::L1,
                        }),
                        (Action::Submit, _) => Err(Refusal::InvalidVersion {
                            number: 4,
                            level: Level::L3,
                        }),
                        (Action::Publish | Action::Rollback, "none") => Err(Refusal::NoVersion),
                        (Action::Publish | Action::Rollback, _) => Err(Refusal::NotApproved {
                            number: version.map(|v| v.number).unwrap_or(0),
                        }),
                        (Action::Unpublish, _) => Err(Refusal::NotPublished),
                        (_, _) if action != Action::Test && !open => {
                            Err(Refusal::WrongStatus { status, action })
                        }
                        (Action::Claim, _) => Ok(Status::Reviewing),
                        (Action::Approve, _) => Ok(Status::Approved),
                        (Action::Reject, _) => Ok(Status::Draft),
                        // Plain facts: the actor is not the submitter.
                        (Action::Withdraw, _) => Err(Refusal::NotSubmitter),
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

    /// Four-eyes, assignment and withdrawal, on each open status.
    #[test]
    fn who_may_decide() {
        for status in [Status::PendingReview, Status::Reviewing] {
            let author = Facts {
                authored: true,
                ..facts(true, Some(VALID))
            };
            for action in [Action::Claim, Action::Approve, Action::Reject] {
                assert_eq!(next(status, action, author), Err(Refusal::FourEyes));
            }
            // An author may still withdraw what they submitted.
            let submitter = Facts {
                submitter: true,
                ..author
            };
            assert_eq!(next(status, Action::Withdraw, submitter), Ok(Status::Draft));
            let other = Facts {
                unassigned: true,
                ..facts(true, Some(VALID))
            };
            assert_eq!(
                next(status, Action::Approve, other),
                Err(Refusal::NotAssigned)
            );
            assert_eq!(
                next(status, Action::Reject, other),
                Err(Refusal::NotAssigned)
            );
            // Claiming is how an unassigned reviewer takes it.
            assert_eq!(next(status, Action::Claim, other), Ok(Status::Reviewing));
        }
        // Four-eyes holds for everyone, administrators included: the facts carry no
        // role, so there is nothing to exempt.
        assert!(Refusal::FourEyes.to_string().contains("four-eyes"));
    }

    /// Publishing: approval, current version, rollback only to what was published.
    #[test]
    fn publishing() {
        let approved = Facts {
            approved: true,
            ..facts(true, Some(VALID))
        };
        for status in Status::ALL.iter().copied() {
            // An approved version that is not the working one goes live beside it.
            assert_eq!(next(status, Action::Publish, approved), Ok(status));
            let current = Facts {
                current: true,
                ..approved
            };
            assert_eq!(
                next(status, Action::Publish, current),
                Ok(Status::Published)
            );
            assert_eq!(
                next(status, Action::Rollback, current),
                Err(Refusal::NeverPublished { number: 2 })
            );
            let before = Facts {
                was_published: true,
                ..approved
            };
            assert_eq!(next(status, Action::Rollback, before), Ok(status));
            let live = Facts {
                published: true,
                ..facts(true, None)
            };
            let want = if status == Status::Published {
                Status::Unpublished
            } else {
                status
            };
            assert_eq!(next(status, Action::Unpublish, live), Ok(want));
        }
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

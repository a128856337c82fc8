//! Platform roles and the named permissions they grant.
//!
//! This is the one place where a role is mapped to permissions (docs/users-and-permissions.md).
//! The application layer checks callers against it; the store copies it into its
//! `role_permissions` table for people who read the database.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A named capability that a route or page requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Permission {
    #[serde(rename = "models.manage")]
    ModelsManage,
    #[serde(rename = "modules.develop")]
    ModulesDevelop,
    #[serde(rename = "modules.test")]
    ModulesTest,
    #[serde(rename = "modules.review")]
    ModulesReview,
    #[serde(rename = "modules.publish")]
    ModulesPublish,
    #[serde(rename = "audit.read")]
    AuditRead,
    #[serde(rename = "users.manage")]
    UsersManage,
    #[serde(rename = "menus.manage")]
    MenusManage,
    #[serde(rename = "webhooks.manage")]
    WebhooksManage,
    #[serde(rename = "reviews.assign")]
    ReviewsAssign,
    #[serde(rename = "spec.restore")]
    SpecRestore,
}

impl Permission {
    pub const ALL: [Permission; 11] = [
        Permission::ModelsManage,
        Permission::ModulesDevelop,
        Permission::ModulesTest,
        Permission::ModulesReview,
        Permission::ModulesPublish,
        Permission::AuditRead,
        Permission::UsersManage,
        Permission::MenusManage,
        Permission::WebhooksManage,
        Permission::ReviewsAssign,
        Permission::SpecRestore,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ModelsManage => "models.manage",
            Permission::ModulesDevelop => "modules.develop",
            Permission::ModulesTest => "modules.test",
            Permission::ModulesReview => "modules.review",
            Permission::ModulesPublish => "modules.publish",
            Permission::AuditRead => "audit.read",
            Permission::UsersManage => "users.manage",
            Permission::MenusManage => "menus.manage",
            Permission::WebhooksManage => "webhooks.manage",
            Permission::ReviewsAssign => "reviews.assign",
            Permission::SpecRestore => "spec.restore",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The input named no known permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName(pub String);

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown name '{}'", self.0)
    }
}

impl std::error::Error for UnknownName {}

impl FromStr for Permission {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownName(s.to_owned()))
    }
}

/// A platform role (docs/users-and-permissions.md). Business roles for CRM data are not these; they live
/// in the application spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlatformRole {
    Admin,
    Developer,
    Reviewer,
    Publisher,
}

impl PlatformRole {
    pub const ALL: [PlatformRole; 4] = [
        PlatformRole::Admin,
        PlatformRole::Developer,
        PlatformRole::Reviewer,
        PlatformRole::Publisher,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PlatformRole::Admin => "admin",
            PlatformRole::Developer => "developer",
            PlatformRole::Reviewer => "reviewer",
            PlatformRole::Publisher => "publisher",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PlatformRole::Admin => "Administrator",
            PlatformRole::Developer => "Developer",
            PlatformRole::Reviewer => "Reviewer",
            PlatformRole::Publisher => "Publisher",
        }
    }

    /// The permissions this role grants. Reviewers and publishers read the audit log
    /// because their decisions rest on what the AI did; only admins manage the system.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            PlatformRole::Admin => &Permission::ALL,
            PlatformRole::Developer => &[ModulesDevelop, ModulesTest],
            PlatformRole::Reviewer => &[ModulesReview, ModulesTest, AuditRead],
            PlatformRole::Publisher => &[ModulesPublish, AuditRead],
        }
    }
}

impl fmt::Display for PlatformRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PlatformRole {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PlatformRole::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownName(s.to_owned()))
    }
}

/// What a route requires of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, logged in or not (health checks, the login page).
    Public,
    /// Any logged-in, active user (their own profile, tokens, logout).
    Authenticated,
    /// A logged-in user holding this permission.
    Permission(Permission),
    /// A logged-in user holding at least one of these permissions (what several roles
    /// read, such as reviews).
    AnyOf(&'static [Permission]),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Permission::ALL {
            assert_eq!(p.as_str().parse::<Permission>().unwrap(), p);
        }
        for r in PlatformRole::ALL {
            assert_eq!(r.as_str().parse::<PlatformRole>().unwrap(), r);
        }
        assert!("root".parse::<PlatformRole>().is_err());
        assert!("users.delete".parse::<Permission>().is_err());
    }

    #[test]
    fn admin_holds_every_permission_and_others_a_strict_subset() {
        assert_eq!(PlatformRole::Admin.permissions(), &Permission::ALL);
        for r in [
            PlatformRole::Developer,
            PlatformRole::Reviewer,
            PlatformRole::Publisher,
        ] {
            assert!(r.permissions().len() < Permission::ALL.len());
            assert!(!r.permissions().contains(&Permission::UsersManage));
            assert!(!r.permissions().contains(&Permission::ModelsManage));
        }
    }

    #[test]
    fn only_reviewers_review_and_only_publishers_publish() {
        for r in PlatformRole::ALL {
            let p = r.permissions();
            assert_eq!(
                p.contains(&Permission::ModulesReview),
                matches!(r, PlatformRole::Admin | PlatformRole::Reviewer)
            );
            assert_eq!(
                p.contains(&Permission::ModulesPublish),
                matches!(r, PlatformRole::Admin | PlatformRole::Publisher)
            );
        }
    }
}

//! Who acts, how they proved it, and from where. Every use case that changes
//! something takes a [`Caller`]; its audit rows name them.

use crate::error::AppError;
use access::{Permission, PlatformRole};
use std::collections::BTreeSet;
use store::audit::{NewEntry, Outcome};

/// How a caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A browser session; state-changing requests must present `csrf`.
    Session { token_hash: String, csrf: String },
    /// A personal API token.
    Token { token_id: String },
    /// The command line, run by someone with access to the machine.
    Cli,
    /// The platform itself (first-start seeding).
    System,
}

/// Where a request came from, for the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

impl Origin {
    /// The command line's origin.
    pub fn cli() -> Origin {
        Origin {
            request_id: None,
            client_addr: Some("cli".into()),
        }
    }

    /// An audit entry with this origin and `actor`.
    pub fn audit(&self, actor: Option<&str>, action: &str, outcome: Outcome) -> NewEntry {
        let mut e = NewEntry::new(action, outcome);
        e.actor = actor.map(str::to_owned);
        e.request_id = self.request_id.clone();
        e.client_addr = self.client_addr.clone();
        e
    }
}

/// An active user (or the platform itself) and what they may do.
#[derive(Debug, Clone)]
pub struct Caller {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<PlatformRole>,
    /// Roles of the application spec, deciding what CRM data they may touch.
    pub business_roles: Vec<String>,
    pub permissions: BTreeSet<Permission>,
    pub via: Via,
    pub origin: Origin,
}

impl Caller {
    /// The platform itself: seeding and other work no person started.
    pub fn system() -> Caller {
        Caller {
            id: "system".into(),
            username: "system".into(),
            display_name: "System".into(),
            roles: vec![PlatformRole::Admin],
            business_roles: Vec::new(),
            permissions: Permission::ALL.into_iter().collect(),
            via: Via::System,
            origin: Origin::default(),
        }
    }

    /// The operator at the command line: whoever can run the binary against the
    /// database already holds everything in it.
    pub fn cli_operator() -> Caller {
        Caller {
            id: "cli".into(),
            username: "cli".into(),
            display_name: "Command line".into(),
            roles: vec![PlatformRole::Admin],
            business_roles: Vec::new(),
            permissions: Permission::ALL.into_iter().collect(),
            via: Via::Cli,
            origin: Origin::cli(),
        }
    }

    /// A stored user acting through `via`, with the permissions of their roles.
    pub fn for_user(user: store::users::User, via: Via, origin: Origin) -> Caller {
        let permissions = user
            .roles
            .iter()
            .flat_map(|r| r.permissions().iter().copied())
            .collect();
        Caller {
            id: user.id,
            username: user.username,
            display_name: user.display_name,
            roles: user.roles,
            business_roles: user.business_roles,
            permissions,
            via,
            origin,
        }
    }

    pub fn can(&self, p: Permission) -> bool {
        self.permissions.contains(&p)
    }

    /// `Forbidden` naming the permission unless the caller holds it.
    pub fn require(&self, p: Permission) -> Result<(), AppError> {
        if self.can(p) {
            Ok(())
        } else {
            Err(AppError::Forbidden {
                code: "forbidden",
                reason: format!("this needs the '{p}' permission"),
            })
        }
    }

    /// The actor of the records engine: platform admins may do everything with CRM
    /// data; everyone else has what their business roles grant.
    pub fn actor(&self) -> runtime::Actor {
        runtime::Actor {
            user: self.id.clone(),
            roles: self.business_roles.clone(),
            admin: self.roles.contains(&PlatformRole::Admin),
        }
    }

    /// The CSRF token a session's forms carry.
    pub fn csrf_token(&self) -> Option<&str> {
        match &self.via {
            Via::Session { csrf, .. } => Some(csrf),
            _ => None,
        }
    }

    /// An audit entry naming this caller and their origin.
    pub fn audit(&self, action: &str, outcome: Outcome) -> NewEntry {
        self.origin.audit(Some(&self.username), action, outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_follow_roles_and_refusals_name_the_permission() {
        let user = store::users::User {
            id: "u1".into(),
            username: "dev".into(),
            display_name: "Dev".into(),
            email: None,
            roles: vec![PlatformRole::Developer],
            business_roles: vec!["sales".into()],
            active: true,
            created_at: 0,
            updated_at: 0,
        };
        let c = Caller::for_user(user, Via::Cli, Origin::cli());
        assert!(c.can(Permission::ModulesDevelop));
        let e = c.require(Permission::UsersManage).unwrap_err();
        assert!(e.to_string().contains("users.manage"));
        assert_eq!(c.actor().roles, vec!["sales"]);
        assert!(!c.actor().admin);
        assert_eq!(
            c.audit("x.y", Outcome::Success).client_addr.as_deref(),
            Some("cli")
        );
        assert!(Caller::system().can(Permission::UsersManage));
    }
}

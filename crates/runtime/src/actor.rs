//! Who acts, and what the spec's business roles let them do.

use spec::{Grant, Spec};

/// The person (or token) acting on records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// User id, recorded as `createdBy` / `updatedBy`.
    pub user: String,
    /// Business roles (names of the spec's roles).
    pub roles: Vec<String>,
    /// Platform administrators may do everything.
    pub admin: bool,
}

impl Actor {
    pub fn admin(user: &str) -> Actor {
        Actor {
            user: user.to_owned(),
            roles: Vec::new(),
            admin: true,
        }
    }

    pub fn with_roles(user: &str, roles: &[&str]) -> Actor {
        Actor {
            user: user.to_owned(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            admin: false,
        }
    }
}

/// What an actor wants to do to records of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    Read,
    Create,
    Update,
    Delete,
    Transition(&'a str),
}

impl Action<'_> {
    pub fn describe(&self) -> String {
        match self {
            Action::Read => "read".into(),
            Action::Create => "create".into(),
            Action::Update => "update".into(),
            Action::Delete => "delete".into(),
            Action::Transition(t) => format!("apply transition '{t}' to"),
        }
    }
}

/// Whether `actor` may do `action` on `object` under `spec`'s grants.
pub fn allowed(spec: &Spec, actor: &Actor, object: &str, action: Action) -> bool {
    if actor.admin {
        return true;
    }
    actor
        .roles
        .iter()
        .filter_map(|r| spec.roles.get(r))
        .any(|role| {
            role.grants.get(object).is_some_and(|grants| {
                grants.iter().any(|g| match (g, action) {
                    (Grant::All, _) => true,
                    (Grant::Read, Action::Read) | (Grant::Create, Action::Create) => true,
                    (Grant::Update, Action::Update) | (Grant::Delete, Action::Delete) => true,
                    (Grant::AnyTransition, Action::Transition(_)) => true,
                    (Grant::Transition(t), Action::Transition(name)) => t == name,
                    _ => false,
                })
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_of_the_base_crm() {
        let s = spec::base_spec();
        let sales = Actor::with_roles("u", &["sales"]);
        let finance = Actor::with_roles("u", &["finance"]);
        assert!(allowed(&s, &sales, "Customer", Action::Create));
        assert!(
            allowed(&s, &sales, "Customer", Action::Transition("activate")),
            "transition:*"
        );
        assert!(allowed(&s, &sales, "Order", Action::Transition("confirm")));
        assert!(!allowed(&s, &sales, "Order", Action::Transition("ship")));
        assert!(!allowed(&s, &sales, "Customer", Action::Delete));
        assert!(!allowed(&s, &finance, "Order", Action::Update));
        assert!(allowed(
            &s,
            &finance,
            "FinancialTransaction",
            Action::Transition("post")
        ));
        assert!(!allowed(
            &s,
            &Actor::with_roles("u", &["nobody"]),
            "Customer",
            Action::Read
        ));
        assert!(allowed(
            &s,
            &Actor::admin("a"),
            "FinancialTransaction",
            Action::Delete
        ));
        let both = Actor::with_roles("u", &["sales", "support"]);
        assert!(
            allowed(&s, &both, "Order", Action::Transition("ship")),
            "roles add up"
        );
    }
}

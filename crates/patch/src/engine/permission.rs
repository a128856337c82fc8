//! `permission` scope: a business role `{role}`, or its grants on one object
//! `{role, object}`. Every permission change needs confirmation (L2); grants to
//! platform roles and wildcards are blocked (L3).

use super::{Effect, Op, seg};
use crate::diff::ChangeAction;
use crate::document::OpKind;
use crate::level::Level;
use crate::report::Issue;
use spec::names::{self, PLATFORM_ROLES, did_you_mean, is_camel};
use spec::{Code, Grant, RoleDef, Spec};

pub(super) fn apply(o: &Op, spec: &mut Spec) -> Result<Effect, Issue> {
    o.target_shape(&[&["role"], &["role", "object"]])?;
    let t = &o.op.target;
    let role = t.role.as_deref().expect("shape checked");
    if PLATFORM_ROLES.contains(&role) {
        return Err(o.err(
            Code::PermissionEscalation,
            "/target/role",
            format!("'{role}' is a platform role; modules may only change business roles"),
        ));
    }
    match &t.object {
        None => whole_role(o, spec, role),
        Some(obj) => grants(o, spec, role, obj),
    }
}

fn no_wildcard(o: &Op, grants: &[Grant], sub: &str) -> Result<(), Issue> {
    if let Some(i) = grants.iter().position(|g| *g == Grant::All) {
        return Err(o.err(
            Code::PermissionEscalation,
            &format!("{sub}/{i}"),
            "the wildcard grant '*' is not allowed; list the grants (read, create, update, delete, transition:<name>)",
        ));
    }
    Ok(())
}

fn unknown_role(o: &Op, spec: &Spec, role: &str) -> Issue {
    let hint = did_you_mean(role, spec.roles.keys().map(String::as_str));
    o.err(
        Code::UnknownRole,
        "/target/role",
        format!("role '{role}' does not exist{hint}"),
    )
}

fn list(grants: &[Grant]) -> String {
    grants
        .iter()
        .map(Grant::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn whole_role(o: &Op, spec: &mut Spec, role: &str) -> Result<Effect, Issue> {
    let path = format!("/roles/{}", seg(role));
    let check = |def: &RoleDef| {
        for (obj, g) in &def.grants {
            no_wildcard(o, g, &format!("/value/grants/{}", seg(obj)))?;
        }
        Ok::<(), Issue>(())
    };
    match o.op.op {
        OpKind::Add => {
            if spec.roles.contains_key(role) {
                return Err(o.err(
                    Code::AlreadyExists,
                    "/target/role",
                    format!("role '{role}' already exists"),
                ));
            }
            if !is_camel(role) {
                return Err(o.err(
                    Code::InvalidName,
                    "/target/role",
                    format!("role name '{role}' must be {}", names::CAMEL_RULE),
                ));
            }
            let def: RoleDef = o.value("a role {label, grants: {Object: [grants]}}")?;
            check(&def)?;
            spec.roles.insert(role.to_owned(), def);
            Ok(
                Effect::new(Level::L2, format!("add business role {role}")).change(
                    o.i,
                    ChangeAction::Added,
                    "role",
                    role.to_owned(),
                    path,
                ),
            )
        }
        OpKind::Remove => {
            o.no_value()?;
            if spec.roles.remove(role).is_none() {
                return Err(unknown_role(o, spec, role));
            }
            Ok(
                Effect::new(Level::L2, format!("remove business role {role}")).change(
                    o.i,
                    ChangeAction::Removed,
                    "role",
                    role.to_owned(),
                    path,
                ),
            )
        }
        OpKind::Update | OpKind::Replace => {
            let Some(old) = spec.roles.get(role) else {
                return Err(unknown_role(o, spec, role));
            };
            let new: RoleDef = if o.op.op == OpKind::Update {
                o.merged(old, "the role")?
            } else {
                o.value("a role definition")?
            };
            check(&new)?;
            spec.roles.insert(role.to_owned(), new);
            Ok(Effect::new(
                Level::L2,
                format!("{} business role {role}", o.op.op.as_str()),
            )
            .change(o.i, ChangeAction::Changed, "role", role.to_owned(), path))
        }
        OpKind::Reorder => Err(o.not_allowed("a role")),
    }
}

fn grants(o: &Op, spec: &mut Spec, role: &str, obj: &str) -> Result<Effect, Issue> {
    let path = format!("/roles/{}/grants/{}", seg(role), seg(obj));
    let name = format!("{role} on {obj}");
    if !spec.roles.contains_key(role) {
        return Err(unknown_role(o, spec, role));
    }
    let def = spec.roles.get_mut(role).expect("checked");
    match o.op.op {
        OpKind::Add => {
            let add: Vec<Grant> = o.value("a list of grants, e.g. [\"read\", \"update\"]")?;
            if add.is_empty() {
                return Err(o.err(Code::Schema, "/value", "list at least one grant"));
            }
            no_wildcard(o, &add, "/value")?;
            let current = def.grants.entry(obj.to_owned()).or_default();
            if let Some(g) = add.iter().find(|g| current.contains(g)) {
                return Err(o.err(
                    Code::AlreadyExists,
                    "/value",
                    format!("role {role} already has '{g}' on {obj}"),
                ));
            }
            current.extend(add.iter().cloned());
            Ok(Effect::new(
                Level::L2,
                format!("grant {} on {obj} to {role}", list(&add)),
            )
            .change(o.i, ChangeAction::Added, "grants", name, path))
        }
        OpKind::Remove => {
            let Some(current) = def.grants.get_mut(obj) else {
                let hint = did_you_mean(obj, def.grants.keys().map(String::as_str));
                return Err(o.err(
                    Code::UnknownObject,
                    "/target/object",
                    format!("role {role} has no grants on '{obj}'{hint}"),
                ));
            };
            let summary = match &o.op.value {
                None => {
                    def.grants.remove(obj);
                    format!("revoke every grant of {role} on {obj}")
                }
                Some(_) => {
                    let drop: Vec<Grant> = o.value("the grants to revoke")?;
                    if let Some(g) = drop.iter().find(|g| !current.contains(g)) {
                        return Err(o.err(
                            Code::OpNotAllowed,
                            "/value",
                            format!(
                                "role {role} has no '{g}' on {obj} to revoke (it has {})",
                                list(current)
                            ),
                        ));
                    }
                    current.retain(|g| !drop.contains(g));
                    if current.is_empty() {
                        def.grants.remove(obj);
                    }
                    format!("revoke {} on {obj} from {role}", list(&drop))
                }
            };
            Ok(Effect::new(Level::L2, summary).change(
                o.i,
                ChangeAction::Removed,
                "grants",
                name,
                path,
            ))
        }
        OpKind::Update | OpKind::Replace => {
            if !def.grants.contains_key(obj) {
                return Err(o.err(
                    Code::UnknownObject,
                    "/target/object",
                    format!("role {role} has no grants on '{obj}'; use add"),
                ));
            }
            // A merge patch on an array replaces it (RFC 7396), so both mean "set".
            let new: Vec<Grant> = o.value("the complete list of grants")?;
            no_wildcard(o, &new, "/value")?;
            let summary = format!("set grants of {role} on {obj} to [{}]", list(&new));
            if new.is_empty() {
                def.grants.remove(obj);
            } else {
                def.grants.insert(obj.to_owned(), new);
            }
            Ok(Effect::new(Level::L2, summary).change(
                o.i,
                ChangeAction::Changed,
                "grants",
                name,
                path,
            ))
        }
        OpKind::Reorder => Err(o.not_allowed("grants")),
    }
}

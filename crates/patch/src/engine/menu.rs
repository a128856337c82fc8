//! `menu` scope: one item of the CRM navigation `{menu}`.

use super::{Effect, Op, page::permutation};
use crate::diff::ChangeAction;
use crate::document::{MenuValue, OpKind};
use crate::level::Level;
use crate::report::Issue;
use spec::names::{self, did_you_mean, is_dotted};
use spec::{Code, MenuNode, Spec};

fn value_of(node: &MenuNode, parent: Option<String>) -> MenuValue {
    MenuValue {
        label: node.label.clone(),
        labels: node.labels.clone(),
        parent,
        page: node.page.clone(),
        icon: node.icon.clone(),
    }
}

pub(super) fn apply(o: &Op, spec: &mut Spec) -> Result<Effect, Issue> {
    o.target_shape(&[&["menu"]])?;
    let id = o.op.target.menu.as_deref().expect("shape checked");
    let path = "/menus".to_owned();
    let ids = spec.menu_ids();
    let unknown = |what: &str, missing: &str, sub: &str| {
        let hint = did_you_mean(missing, ids.iter().map(String::as_str));
        o.err(
            Code::UnknownMenu,
            sub,
            format!("{what} '{missing}' does not exist{hint}"),
        )
    };
    match o.op.op {
        OpKind::Add => {
            if spec.find_menu(id).is_some() {
                return Err(o.err(
                    Code::AlreadyExists,
                    "/target/menu",
                    format!("menu item '{id}' already exists"),
                ));
            }
            if !is_dotted(id) {
                return Err(o.err(
                    Code::InvalidName,
                    "/target/menu",
                    format!("menu id '{id}' must be {}", names::DOTTED_RULE),
                ));
            }
            let v: MenuValue = o.value("a menu item {label, parent?, page?, icon?}")?;
            place(o, spec, id, v, Vec::new(), &unknown)?;
            Ok(
                Effect::new(Level::L1, format!("add menu item {id}")).change(
                    o.i,
                    ChangeAction::Added,
                    "menu",
                    id.to_owned(),
                    path,
                ),
            )
        }
        OpKind::Remove => {
            o.no_value()?;
            let Some(node) = spec.remove_menu(id) else {
                return Err(unknown("menu item", id, "/target/menu"));
            };
            let n = node.children.len();
            let summary = if n > 0 {
                format!("remove menu item {id} and its {n} child item(s)")
            } else {
                format!("remove menu item {id}")
            };
            Ok(Effect::new(Level::L2, summary).change(
                o.i,
                ChangeAction::Removed,
                "menu",
                id.to_owned(),
                path,
            ))
        }
        OpKind::Update | OpKind::Replace => {
            let Some(node) = spec.find_menu(id) else {
                return Err(unknown("menu item", id, "/target/menu"));
            };
            let old = value_of(node, spec.menu_parent(id));
            let new: MenuValue = if o.op.op == OpKind::Update {
                o.merged(&old, "the menu item")?
            } else {
                o.value("a menu item")?
            };
            if new.parent.as_deref() == Some(id) {
                return Err(o.err(
                    Code::OpNotAllowed,
                    "/value/parent",
                    format!("menu item {id} cannot be its own parent"),
                ));
            }
            if let Some(p) = &new.parent
                && spec.find_menu(id).is_some_and(|n| contains(n, p))
            {
                return Err(o.err(
                    Code::OpNotAllowed,
                    "/value/parent",
                    format!("menu item {id} cannot move under its own child {p}"),
                ));
            }
            let noop = old == new;
            let moved = old.parent != new.parent;
            // Check the new parent before detaching, so a failure changes nothing.
            if let Some(p) = &new.parent
                && spec.find_menu(p).is_none()
            {
                return Err(unknown("parent menu item", p, "/value/parent"));
            }
            let position = sibling_position(spec, id);
            let node = spec.remove_menu(id).expect("found above");
            let children = node.children;
            if moved {
                place(o, spec, id, new, children, &unknown)?;
            } else {
                insert_at(spec, id, new, children, position);
            }
            let mut e = Effect::new(Level::L1, format!("{} menu item {id}", o.op.op.as_str()))
                .change(o.i, ChangeAction::Changed, "menu", id.to_owned(), path);
            if noop {
                e = e.warn(
                    "W_NOOP",
                    format!("the {} leaves menu item {id} unchanged", o.op.op.as_str()),
                );
            }
            Ok(e)
        }
        OpKind::Reorder => {
            let Some(node) = spec.find_menu(id) else {
                return Err(unknown("menu item", id, "/target/menu"));
            };
            let current: Vec<String> = node.children.iter().map(|c| c.id.clone()).collect();
            let new: Vec<String> = o.value("the child ids in their new order")?;
            permutation(o, &current, &new, &format!("children of menu item {id}"))?;
            let node = spec.find_menu_mut(id).expect("found above");
            node.children
                .sort_by_key(|c| new.iter().position(|n| *n == c.id).unwrap_or(usize::MAX));
            let mut e = Effect::new(Level::L1, format!("reorder the children of menu item {id}"))
                .change(o.i, ChangeAction::Reordered, "menu", id.to_owned(), path);
            if current == new {
                e = e.warn(
                    "W_NOOP",
                    format!("the children of {id} are already in this order"),
                );
            }
            Ok(e)
        }
    }
}

fn contains(node: &MenuNode, id: &str) -> bool {
    node.children.iter().any(|c| c.id == id || contains(c, id))
}

/// (parent id, index among siblings) of a node.
fn sibling_position(spec: &Spec, id: &str) -> (Option<String>, usize) {
    let parent = spec.menu_parent(id);
    let siblings = match &parent {
        Some(p) => &spec.find_menu(p).expect("parent exists").children,
        None => &spec.menus,
    };
    (
        parent,
        siblings.iter().position(|n| n.id == id).unwrap_or(0),
    )
}

fn insert_at(
    spec: &mut Spec,
    id: &str,
    v: MenuValue,
    children: Vec<MenuNode>,
    (parent, index): (Option<String>, usize),
) {
    let node = MenuNode {
        id: id.to_owned(),
        label: v.label,
        labels: v.labels,
        page: v.page,
        icon: v.icon,
        children,
    };
    let siblings = match &parent {
        Some(p) => &mut spec.find_menu_mut(p).expect("parent exists").children,
        None => &mut spec.menus,
    };
    let at = index.min(siblings.len());
    siblings.insert(at, node);
}

/// Appends a node under its parent (or at the top level).
fn place(
    _o: &Op,
    spec: &mut Spec,
    id: &str,
    v: MenuValue,
    children: Vec<MenuNode>,
    unknown: &dyn Fn(&str, &str, &str) -> Issue,
) -> Result<(), Issue> {
    let node = MenuNode {
        id: id.to_owned(),
        label: v.label,
        labels: v.labels,
        page: v.page,
        icon: v.icon,
        children,
    };
    match &v.parent {
        None => spec.menus.push(node),
        Some(p) => match spec.find_menu_mut(p) {
            Some(parent) => parent.children.push(node),
            None => return Err(unknown("parent menu item", p, "/value/parent")),
        },
    }
    Ok(())
}

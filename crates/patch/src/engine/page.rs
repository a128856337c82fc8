//! `page` scope: `{page}`, and `{page, list}` for reordering columns or sections.

use super::{Effect, Op, seg};
use crate::diff::ChangeAction;
use crate::document::OpKind;
use crate::level::Level;
use crate::report::Issue;
use spec::names::{self, did_you_mean, is_dotted};
use spec::{Code, PageDef, Spec};

pub(super) fn apply(o: &Op, spec: &mut Spec) -> Result<Effect, Issue> {
    o.target_shape(&[&["page"], &["page", "list"]])?;
    let t = &o.op.target;
    let id = t.page.as_deref().expect("shape checked");
    let path = format!("/pages/{}", seg(id));
    let unknown = |spec: &Spec| {
        let hint = did_you_mean(id, spec.pages.keys().map(String::as_str));
        o.err(
            Code::UnknownPage,
            "/target/page",
            format!("page '{id}' does not exist{hint}"),
        )
    };
    if let Some(list) = &t.list {
        if o.op.op != OpKind::Reorder {
            return Err(o.not_allowed("a page's list (only reorder is)"));
        }
        let Some(page) = spec.pages.get_mut(id) else {
            return Err(unknown(spec));
        };
        return reorder(o, page, id, list, path);
    }
    match o.op.op {
        OpKind::Add => {
            if spec.pages.contains_key(id) {
                return Err(o.err(
                    Code::AlreadyExists,
                    "/target/page",
                    format!("page '{id}' already exists"),
                ));
            }
            if !is_dotted(id) {
                return Err(o.err(
                    Code::InvalidName,
                    "/target/page",
                    format!("page id '{id}' must be {}", names::DOTTED_RULE),
                ));
            }
            let page: PageDef = o.value("a page definition {type: list|form|detail, object, …}")?;
            let summary = format!("add {} page {id} for {}", page.kind(), page.object());
            spec.pages.insert(id.to_owned(), page);
            Ok(Effect::new(Level::L1, summary).change(
                o.i,
                ChangeAction::Added,
                "page",
                id.to_owned(),
                path,
            ))
        }
        OpKind::Remove => {
            o.no_value()?;
            if spec.pages.remove(id).is_none() {
                return Err(unknown(spec));
            }
            Ok(Effect::new(Level::L2, format!("remove page {id}")).change(
                o.i,
                ChangeAction::Removed,
                "page",
                id.to_owned(),
                path,
            ))
        }
        OpKind::Update | OpKind::Replace => {
            let Some(old) = spec.pages.get(id) else {
                return Err(unknown(spec));
            };
            let new: PageDef = if o.op.op == OpKind::Update {
                o.merged(old, "the page")?
            } else {
                o.value("a page definition")?
            };
            let noop = *old == new;
            spec.pages.insert(id.to_owned(), new);
            let mut e = Effect::new(Level::L1, format!("{} page {id}", o.op.op.as_str())).change(
                o.i,
                ChangeAction::Changed,
                "page",
                id.to_owned(),
                path,
            );
            if noop {
                e = e.warn(
                    "W_NOOP",
                    format!("the {} leaves page {id} unchanged", o.op.op.as_str()),
                );
            }
            Ok(e)
        }
        OpKind::Reorder => Err(o.err(
            Code::Schema,
            "/target",
            "reorder on a page needs target {page, list} with list 'columns' or 'sections'",
        )),
    }
}

/// Checks that `new` is a permutation of `old`, naming what is missing or extra.
pub(super) fn permutation(o: &Op, old: &[String], new: &[String], what: &str) -> Result<(), Issue> {
    let missing: Vec<&str> = old
        .iter()
        .filter(|x| !new.contains(x))
        .map(String::as_str)
        .collect();
    let extra: Vec<&str> = new
        .iter()
        .filter(|x| !old.contains(x))
        .map(String::as_str)
        .collect();
    let mut dupes: Vec<&str> = new
        .iter()
        .enumerate()
        .filter(|(i, x)| new[..*i].contains(x))
        .map(|(_, x)| x.as_str())
        .collect();
    dupes.dedup();
    if missing.is_empty() && extra.is_empty() && dupes.is_empty() && old.len() == new.len() {
        return Ok(());
    }
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("missing {}", missing.join(", ")));
    }
    if !extra.is_empty() {
        parts.push(format!("not present now: {}", extra.join(", ")));
    }
    if !dupes.is_empty() {
        parts.push(format!("listed twice: {}", dupes.join(", ")));
    }
    Err(o.err(
        Code::Reorder,
        "/value",
        format!(
            "a reorder must list exactly the current {what} ({}) in a new order; {}",
            old.join(", "),
            parts.join("; ")
        ),
    ))
}

fn reorder(
    o: &Op,
    page: &mut PageDef,
    id: &str,
    list: &str,
    path: String,
) -> Result<Effect, Issue> {
    let new: Vec<String> = o.value("the ids in their new order")?;
    let current: Vec<String> = match (page, list) {
        (PageDef::List(l), "columns") => {
            permutation(o, &l.columns, &new, &format!("columns of {id}"))?;
            std::mem::replace(&mut l.columns, new.clone())
        }
        (PageDef::Form(p) | PageDef::Detail(p), "sections") => {
            let ids: Vec<String> = p.sections.iter().map(|s| s.id.clone()).collect();
            permutation(o, &ids, &new, &format!("sections of {id}"))?;
            p.sections
                .sort_by_key(|s| new.iter().position(|n| *n == s.id).unwrap_or(usize::MAX));
            ids
        }
        (p, _) => {
            let has = if matches!(p, PageDef::List(_)) {
                "columns"
            } else {
                "sections"
            };
            return Err(o.err(
                Code::Reorder,
                "/target/list",
                format!("page {id} has no list '{list}'; it has '{has}'"),
            ));
        }
    };
    let mut e = Effect::new(Level::L1, format!("reorder {list} of page {id}")).change(
        o.i,
        ChangeAction::Reordered,
        "page",
        id.to_owned(),
        format!("{path}/{list}"),
    );
    if current == new {
        e = e.warn(
            "W_NOOP",
            format!("the {list} of page {id} are already in this order"),
        );
    }
    Ok(e)
}

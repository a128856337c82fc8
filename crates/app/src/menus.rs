//! Menus: the System Management menu (data in `menu_items`, seeded here) and the CRM
//! menu of the live spec, each cut down to what a caller may open.

use crate::error::{AppError, AppResult, FieldErrors};
use crate::{App, Caller};
use access::Permission;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeSet;
use store::audit::{self, Outcome};
use store::menus::MenuChanges;

pub use store::menus::MenuItem;

/// An entry of a menu as a caller sees it.
#[derive(Debug, Clone, Serialize)]
pub struct MenuEntry {
    pub label: String,
    pub path: String,
    pub icon: Option<String>,
}

/// A group of entries (a top-level item and its children).
#[derive(Debug, Clone, Serialize)]
pub struct MenuGroup {
    pub label: String,
    pub items: Vec<MenuEntry>,
}

/// The seeded System Management menu. Items whose pages a later version adds stay
/// hidden until then.
pub fn system_menu() -> Vec<MenuItem> {
    let item =
        |id: &str, label: &str, path: &str, order: i64, p: Permission, icon: &str| MenuItem {
            id: id.to_owned(),
            parent_id: Some("system".to_owned()),
            label: label.to_owned(),
            path: Some(path.to_owned()),
            icon: Some(icon.to_owned()),
            sort_order: order,
            permission: Some(p.as_str().to_owned()),
            visible: true,
        };
    vec![
        MenuItem {
            id: "system".into(),
            parent_id: None,
            label: "System Management".into(),
            path: None,
            icon: Some("settings".into()),
            sort_order: 100,
            permission: None,
            visible: true,
        },
        item(
            "system.ai-models",
            "AI Model Configuration",
            "/admin/ai-models",
            110,
            Permission::ModelsManage,
            "cpu",
        ),
        item(
            "system.ai-usage",
            "AI Usage & Budgets",
            "/admin/ai-usage",
            115,
            Permission::ModelsManage,
            "chart",
        ),
        item(
            "system.ai-develop",
            "AI Module Development",
            "/admin/ai-modules/develop",
            120,
            Permission::ModulesDevelop,
            "code",
        ),
        item(
            "system.ai-test",
            "AI Module Testing",
            "/admin/ai-modules/test",
            130,
            Permission::ModulesTest,
            "check",
        ),
        item(
            "system.ai-review",
            "AI Module Review",
            "/admin/ai-modules/review",
            140,
            Permission::ModulesReview,
            "eye",
        ),
        item(
            "system.ai-publish",
            "AI Module Publishing",
            "/admin/ai-modules/publish",
            150,
            Permission::ModulesPublish,
            "upload",
        ),
        item(
            "system.audit",
            "Audit Log",
            "/admin/audit",
            160,
            Permission::AuditRead,
            "list",
        ),
        item(
            "system.users",
            "Users",
            "/admin/users",
            170,
            Permission::UsersManage,
            "users",
        ),
        item(
            "system.trusted-keys",
            "Trusted Instances",
            "/admin/trusted-keys",
            175,
            Permission::UsersManage,
            "key",
        ),
        item(
            "system.menus",
            "Menus",
            "/admin/menus",
            180,
            Permission::MenusManage,
            "menu",
        ),
    ]
}

/// Every menu item, for administration.
pub async fn list(app: &App, by: &Caller) -> AppResult<Vec<MenuItem>> {
    by.require(Permission::MenusManage)?;
    Ok(store::menus::list(&app.db).await?)
}

/// The System Management menu `by` may open: visible items they hold the permission
/// for and whose page exists (`pages`); groups left empty disappear.
pub async fn visible(
    app: &App,
    by: &Caller,
    pages: &BTreeSet<String>,
) -> AppResult<Vec<MenuGroup>> {
    visible_relabelled(app, by, pages, |items| items).await
}

/// [`visible`], with the labels changed first (into the page's language).
pub async fn visible_relabelled(
    app: &App,
    by: &Caller,
    pages: &BTreeSet<String>,
    relabel: impl FnOnce(Vec<MenuItem>) -> Vec<MenuItem>,
) -> AppResult<Vec<MenuGroup>> {
    let items = relabel(store::menus::list(&app.db).await?);
    Ok(visible_of(&items, by, pages))
}

fn visible_of(items: &[MenuItem], by: &Caller, pages: &BTreeSet<String>) -> Vec<MenuGroup> {
    let allowed = |it: &MenuItem| {
        it.visible
            && match &it.permission {
                None => true,
                Some(p) => p.parse::<Permission>().is_ok_and(|p| by.can(p)),
            }
    };
    items
        .iter()
        .filter(|g| g.parent_id.is_none() && allowed(g))
        .filter_map(|g| {
            let children: Vec<MenuEntry> = items
                .iter()
                .filter(|c| c.parent_id.as_deref() == Some(g.id.as_str()) && allowed(c))
                .filter_map(|c| {
                    let path = c.path.clone()?;
                    pages.contains(&path).then(|| MenuEntry {
                        label: c.label.clone(),
                        path,
                        icon: c.icon.clone(),
                    })
                })
                .collect();
            (!children.is_empty()).then(|| MenuGroup {
                label: g.label.clone(),
                items: children,
            })
        })
        .collect()
}

/// The CRM menu of the live spec that `by` may open: entries whose page shows an
/// object they may read.
pub fn crm(app: &App, by: &Caller, lang: &str) -> Vec<MenuGroup> {
    crm_of(&app.live.get().spec, by, lang, "/crm")
}

/// The CRM menu of `spec`, its pages under `base` (`/crm`, or a preview's prefix).
pub fn crm_of(spec: &spec::Spec, by: &Caller, lang: &str, base: &str) -> Vec<MenuGroup> {
    let actor = by.actor();
    spec.menus
        .iter()
        .filter_map(|group| {
            let items: Vec<MenuEntry> = group
                .children
                .iter()
                .filter_map(|item| {
                    let page = item.page.as_ref()?;
                    let def = spec.pages.get(page)?;
                    runtime::allowed(spec, &actor, def.object(), runtime::Action::Read).then(|| {
                        MenuEntry {
                            label: spec::localized(&item.label, &item.labels, lang).to_owned(),
                            path: format!("{base}/{page}"),
                            icon: item.icon.clone(),
                        }
                    })
                })
                .collect();
            (!items.is_empty()).then(|| MenuGroup {
                label: spec::localized(&group.label, &group.labels, lang).to_owned(),
                items,
            })
        })
        .collect()
}

/// A change to a menu item, before parsing.
#[derive(Debug, Default, Clone)]
pub struct MenuInput {
    pub label: Option<String>,
    pub sort_order: Option<i64>,
    pub visible: Option<bool>,
    /// `Some("")` removes the requirement.
    pub permission: Option<String>,
}

pub async fn update(app: &App, by: &Caller, id: &str, input: MenuInput) -> AppResult<MenuItem> {
    by.require(Permission::MenusManage)?;
    let mut errs = FieldErrors::default();
    let mut ch = MenuChanges::default();
    if let Some(l) = &input.label {
        let l = l.trim();
        if l.is_empty() || l.chars().count() > 80 {
            errs.add("label", "must be 1 to 80 characters");
        } else {
            ch.label = Some(l.to_owned());
        }
    }
    if let Some(o) = input.sort_order {
        if !(0..=100_000).contains(&o) {
            errs.add("sortOrder", "must be between 0 and 100000");
        }
        ch.sort_order = Some(o);
    }
    ch.visible = input.visible;
    if let Some(p) = &input.permission {
        let p = p.trim();
        if p.is_empty() {
            ch.permission = Some(None);
        } else if p.parse::<Permission>().is_ok() {
            ch.permission = Some(Some(p.to_owned()));
        } else {
            let known: Vec<_> = Permission::ALL.iter().map(|p| p.as_str()).collect();
            errs.add(
                "permission",
                format!("unknown permission '{p}'; known: {}", known.join(", ")),
            );
        }
    }
    errs.into_result()?;
    let mut tx = app.db.begin().await?;
    let Some(before) = store::menus::get(&mut tx, id).await? else {
        return Err(AppError::not_found(format!("menu item {id}")));
    };
    let after = store::menus::update(&mut tx, id, &ch).await?;
    let mut e = by.audit("menu.update", Outcome::Success);
    e.resource_type = Some("menu_item".into());
    e.resource_id = Some(id.to_owned());
    e.details = json!({ "before": before, "after": after });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(after)
}

use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::http::extract::RequestMeta;
use crate::http::users::service::FieldErrors;
use crate::state::AppState;
use access::Permission;
use serde_json::json;
use store::audit::{self, Outcome};
use store::menus::{MenuChanges, MenuItem};

/// A change to a menu item, before parsing.
#[derive(Debug, Default)]
pub struct MenuInput {
    pub label: Option<String>,
    pub sort_order: Option<i64>,
    pub visible: Option<bool>,
    /// `Some("")` removes the requirement.
    pub permission: Option<String>,
}

pub async fn update(
    state: &AppState,
    actor: &CurrentUser,
    meta: &RequestMeta,
    id: &str,
    input: MenuInput,
) -> Result<MenuItem, ApiError> {
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
    let mut tx = state.db.begin().await?;
    let Some(before) = store::menus::get(&mut tx, id).await? else {
        return Err(ApiError::not_found(format!("menu item {id}")));
    };
    let after = store::menus::update(&mut tx, id, &ch).await?;
    let mut e = meta.audit(Some(&actor.username), "menu.update", Outcome::Success);
    e.resource_type = Some("menu_item".into());
    e.resource_id = Some(id.to_owned());
    e.details = json!({ "before": before, "after": after });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(after)
}

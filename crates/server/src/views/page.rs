//! The context every logged-in page shares, built once per request.

use super::{Lang, render};
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::state::AppState;
use access::Permission;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::Response;
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::Serialize;
use store::menus::MenuItem;

#[derive(Debug, Clone, Serialize)]
pub struct SidebarItem {
    pub label: String,
    pub path: String,
    pub icon: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SidebarGroup {
    pub label: String,
    pub items: Vec<SidebarItem>,
}

/// The logged-in user, their sidebar and the page's language.
pub struct Page {
    pub user: CurrentUser,
    pub lang: Lang,
    pub path: String,
    pub sidebar: Vec<SidebarGroup>,
}

/// The menu a user sees: visible items they hold the permission for and whose page
/// exists; groups with nothing left in them disappear.
pub fn sidebar(
    items: &[MenuItem],
    user: &CurrentUser,
    pages: &std::collections::BTreeSet<String>,
) -> Vec<SidebarGroup> {
    let allowed = |it: &MenuItem| {
        it.visible
            && match &it.permission {
                None => true,
                Some(p) => p.parse::<Permission>().is_ok_and(|p| user.can(p)),
            }
    };
    items
        .iter()
        .filter(|g| g.parent_id.is_none() && allowed(g))
        .filter_map(|g| {
            let children: Vec<SidebarItem> = items
                .iter()
                .filter(|c| c.parent_id.as_deref() == Some(g.id.as_str()) && allowed(c))
                .filter_map(|c| {
                    let path = c.path.clone()?;
                    pages.contains(&path).then(|| SidebarItem {
                        label: c.label.clone(),
                        path,
                        icon: c.icon.clone(),
                    })
                })
                .collect();
            (!children.is_empty()).then(|| SidebarGroup {
                label: g.label.clone(),
                items: children,
            })
        })
        .collect()
}

/// The CRM section of the sidebar, from the live spec's menus: items whose page shows
/// an object the user may read.
pub fn crm_sidebar(spec: &spec::Spec, user: &CurrentUser) -> Vec<SidebarGroup> {
    let actor = user.actor();
    spec.menus
        .iter()
        .filter_map(|group| {
            let items: Vec<SidebarItem> = group
                .children
                .iter()
                .filter_map(|item| {
                    let page = item.page.as_ref()?;
                    let def = spec.pages.get(page)?;
                    runtime::allowed(spec, &actor, def.object(), runtime::Action::Read).then(|| {
                        SidebarItem {
                            label: item.label.clone(),
                            path: format!("/crm/{page}"),
                            icon: item.icon.clone(),
                        }
                    })
                })
                .collect();
            (!items.is_empty()).then(|| SidebarGroup {
                label: group.label.clone(),
                items,
            })
        })
        .collect()
}

/// Seeded menu labels in the page's language, unless an administrator changed them.
fn translated(mut items: Vec<MenuItem>, lang: Lang) -> Vec<MenuItem> {
    if lang == Lang::En {
        return items;
    }
    let seeded = crate::seed::system_menu();
    for it in &mut items {
        let unchanged = seeded.iter().any(|s| s.id == it.id && s.label == it.label);
        let key = format!("menu.{}", it.id);
        let text = super::i18n::lookup(lang.code(), &key);
        if unchanged && text != key {
            it.label = text;
        }
    }
    items
}

impl FromRequestParts<AppState> for Page {
    type Rejection = super::PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or_else(ApiError::unauthorized)?;
        let items = store::menus::list(&state.db).await?;
        let lang = Lang::from_headers(&parts.headers);
        let mut groups = crm_sidebar(&state.live.get().spec, &user);
        groups.extend(sidebar(&translated(items, lang), &user, &state.page_paths));
        Ok(Page {
            sidebar: groups,
            lang: Lang::from_headers(&parts.headers),
            path: parts.uri.path().to_owned(),
            user,
        })
    }
}

impl Page {
    /// Renders `template` with the shared context merged under the page's own.
    /// A message of the page's language catalog.
    pub fn t(&self, key: &str) -> String {
        super::i18n::lookup(self.lang.code(), key)
    }

    pub fn render(&self, template: &str, ctx: Value) -> Response {
        let base = context! {
            lang => self.lang.code(),
            current_path => self.path.clone(),
            sidebar => Serde(&self.sidebar),
            me => context! {
                username => self.user.username.clone(),
                display_name => self.user.display_name.clone(),
                roles => Serde(&self.user.roles),
            },
            csrf => self.user.csrf_token().unwrap_or_default(),
        };
        render(template, context! { ..ctx, ..base })
    }
}

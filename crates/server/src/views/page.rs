//! The context every logged-in page shares, built once per request.

use super::{Lang, render};
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::state::AppState;
use app::menus::{self, MenuGroup, MenuItem};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::Response;
use minijinja::value::Serde;
use minijinja::{Value, context};

/// The logged-in user, their sidebar and the page's language.
pub struct Page {
    pub user: CurrentUser,
    pub lang: Lang,
    pub path: String,
    pub sidebar: Vec<MenuGroup>,
}

/// Seeded menu labels in the page's language, unless an administrator changed them.
fn translated(mut items: Vec<MenuItem>, lang: Lang) -> Vec<MenuItem> {
    if lang == Lang::En {
        return items;
    }
    let seeded = menus::system_menu();
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
        let lang = Lang::from_headers(&parts.headers);
        let mut groups = menus::crm(&state.app, &user, lang.code());
        groups.extend(
            menus::visible_relabelled(&state.app, &user, &state.page_paths, |items| {
                translated(items, lang)
            })
            .await?,
        );
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

//! Server-rendered pages: templates compiled into the binary (auto-escaped, since
//! their names end in `.html`), the message catalogs, and the context every page
//! shares (user, sidebar, CSRF token, language).

pub mod form;
mod i18n;
pub mod page;

pub use form::Refusal;
pub use i18n::Lang;
pub use page::Page;

use crate::error::ApiError;
use axum::extract::Request;
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, Value, context};
use std::sync::LazyLock;

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/", $name)))),*]
    };
}

const TEMPLATES: &[(&str, &str)] = templates!(
    "base.html",
    "login.html",
    "home.html",
    "error.html",
    "account.html",
    "users/list.html",
    "users/new.html",
    "users/edit.html",
    "menus.html",
    "models/list.html",
    "models/form.html",
    "models/test_script.html",
    "models/eval.html",
    "usage.html",
    "preview_button.html",
    "trusted_keys.html",
    "modules/list.html",
    "modules/workspace.html",
    "test_runs/page.html",
    "test_runs/export.html",
    "test_runs/report_body.html",
    "audit.html",
    "docs.html",
    "crm/list.html",
    "crm/macros.html",
    "crm/import.html",
    "crm/detail.html",
    "crm/form.html",
    "reviews/queue.html",
    "reviews/detail.html",
    "reviews/comment.html",
    "notifications.html",
    "publishing.html",
);

/// The compiled templates. Global because error pages are rendered where no state
/// is at hand (the route guard); they are immutable after start-up.
pub static VIEWS: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // Optional context (errors, flash messages) may be absent; chained lookups on it
    // render as empty rather than failing the page.
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("template {name}: {e}"));
    }
    env.add_function("t", i18n::translate);
    env.add_filter("datetime", format_ms);
    // Money as the API gives it (a number with up to six decimals), shown exactly.
    env.add_filter("amount", |x: f64| {
        llm::price::format_micros((x * 1_000_000.0).round() as i64)
    });
    env
});

/// Formats unix milliseconds as `YYYY-MM-DD HH:MM:SS UTC`.
fn format_ms(ms: i64) -> String {
    let fmt =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

/// Renders a template; a failure is a bug, logged, and shown as a plain error page.
/// A template rendered to a string (exports); a render error becomes a short notice
/// (and a log line) rather than a panic.
pub fn render_string(name: &str, ctx: Value) -> String {
    VIEWS
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .unwrap_or_else(|e| {
            tracing::error!(template = name, error = %e, "template failed to render");
            "<!doctype html><p>The report could not be rendered.</p>".to_owned()
        })
}

pub fn render(name: &str, ctx: Value) -> Response {
    match VIEWS.get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(template = name, error = %e, "template failed to render");
            (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                Html("<h1>Internal error</h1>"),
            )
                .into_response()
        }
    }
}

/// An HTML error page for `err` (used where a page, not the API, was asked for).
pub fn error_page(req: &Request, err: ApiError) -> Response {
    let lang = Lang::from_headers(req.headers());
    let status = err.status;
    let mut resp = render(
        "error.html",
        context! { lang => lang.code(), status => status.as_u16(), code => err.code, message => err.message },
    );
    *resp.status_mut() = status;
    resp
}

/// A page handler's error: rendered as an HTML error page.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl<E: Into<ApiError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status;
        let mut resp = render(
            "error.html",
            context! { lang => "en", status => status.as_u16(), code => self.0.code, message => self.0.message },
        );
        *resp.status_mut() = status;
        resp
    }
}

pub type PageResult = Result<Response, PageError>;

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::value::Serde;

    /// The model form renders with its presets both new and for an existing model
    /// (a render error would otherwise only show as a 500 in a browser).
    #[test]
    fn model_pages_render() {
        let presets: Vec<&llm::Preset> =
            llm::ProviderKind::ALL.iter().map(|k| k.preset()).collect();
        let form = context! { name => "Kimi", provider => "kimi", base_url => "https://api.moonshot.cn/v1", model => "kimi-k2.6", enabled => true };
        for model in [
            Value::from(()),
            context! { id => "m1", name => "Kimi", hasKey => true, apiKeyMask => "sk-…a1b2", status => "ok" },
        ] {
            let html = VIEWS
                .get_template("models/form.html")
                .and_then(|t| t.render(context! { presets => Serde(&presets), form => form.clone(), model => model, csrf => "c", lang => "en" }))
                .unwrap_or_else(|e| panic!("{e:#}"));
            assert!(html.contains("api.moonshot.cn"));
        }
    }
}

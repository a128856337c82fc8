//! The Modgate server: the JSON API and the HTML pages over the application layer
//! (`app`), which holds every use case and rule.
//!
//! `startup` builds an [`Application`] from a [`Config`]; tests build the same thing on
//! port 0. Requests flow: request id → tracing → timeout → caller resolution
//! (`auth`) → the route's declared access check (`http::routing`) → handler → `app`;
//! errors of the application layer become HTTP answers in one place (`error`).

pub mod auth;
pub mod error;
pub mod http;
pub mod startup;
pub mod state;
pub mod views;

pub use app::Config;
pub use app::config;
pub use startup::Application;

//! The Modgate server: JSON API and HTML pages over the store.
//!
//! `startup` builds an [`Application`] from a [`Config`]; tests build the same thing on
//! port 0. Requests flow: request id → tracing → timeout → session/token resolution
//! (`auth`) → the route's declared access check (`http::routing`) → handler.

pub mod ai;
pub mod auth;
pub mod config;
pub mod error;
pub mod http;
pub mod live;
pub mod secret;
pub mod seed;
pub mod startup;
pub mod state;
pub mod views;

pub use config::Config;
pub use startup::Application;

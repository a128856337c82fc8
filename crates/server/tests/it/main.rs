//! Integration tests: the real server on port 0, a fresh database per test (SQLite,
//! or PostgreSQL when TEST_DATABASE_URL is set), real HTTP.

mod audit;
mod auth;
mod browser;
mod bundles;
mod csv_io;
mod data;
mod errors;
mod harness;
mod lifecycle;
mod matrix;
mod menus;
mod metrics;
mod model_ops;
mod models;
mod modules;
mod patch_api;
mod preview;
mod publishing;
mod reviews;
mod test_runs;
mod users;

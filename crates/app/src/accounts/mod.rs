//! Platform accounts: users, logging in and out, personal API tokens, and resolving a
//! credential to the caller it belongs to.

pub mod cache;
pub mod identity;
pub mod login;
pub mod tokens;
pub mod users;

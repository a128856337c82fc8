//! The server's side of AI: turning a stored model configuration into a working
//! client (opening the sealed key on the way), the model's context, and the Patch
//! Gateway.

pub mod gateway;
pub mod models;
pub mod prompt;

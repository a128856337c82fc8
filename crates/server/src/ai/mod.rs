//! The server's side of AI models: turning a stored configuration into a working
//! client (opening the sealed key on the way).

pub mod models;

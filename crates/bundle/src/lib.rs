//! Module bundles between instances (docs/bundles.md), without I/O: the canonical
//! JSON a bundle is signed over, Ed25519 signatures, and what a bundle must show
//! before an instance stores anything of it.

mod canonical;
mod sign;

pub use canonical::canonical;
pub use sign::{BundleError, KeyPair, check_public_key, fingerprint, sign, verify};

/// The format a bundle names.
pub const FORMAT: &str = "modgate.bundle/v1";

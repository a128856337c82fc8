//! Ed25519 over a bundle's canonical JSON: the bundle without its `signature` member
//! is what is signed, so every other member — content, provenance, signer — is covered.

use crate::canonical;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// Not a bundle at all, or not one this version reads.
    #[error("{0}")]
    Format(String),
    /// The signature does not hold: something was changed after signing.
    #[error(
        "the signature does not match the bundle's content: it was changed after it was signed"
    )]
    Tampered,
}

/// An instance's signing key; the public half is what others trust.
pub struct KeyPair(SigningKey);

impl KeyPair {
    /// From 32 secret bytes (the caller brings the randomness).
    pub fn from_secret(secret: [u8; 32]) -> KeyPair {
        KeyPair(SigningKey::from_bytes(&secret))
    }

    /// The secret bytes, base64, for sealing at rest.
    pub fn secret_b64(&self) -> String {
        STANDARD.encode(self.0.to_bytes())
    }

    pub fn from_secret_b64(s: &str) -> Result<KeyPair, BundleError> {
        let raw: [u8; 32] = STANDARD
            .decode(s.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| BundleError::Format("a signing key is 32 bytes in base64".into()))?;
        Ok(KeyPair::from_secret(raw))
    }

    /// The public key, base64 (what `GET /api/instance` shows).
    pub fn public_b64(&self) -> String {
        STANDARD.encode(self.0.verifying_key().to_bytes())
    }
}

fn public_key(b64: &str) -> Result<VerifyingKey, BundleError> {
    let raw: [u8; 32] = STANDARD
        .decode(b64.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            BundleError::Format(format!(
                "'{b64}' is not an Ed25519 public key (32 bytes, base64)"
            ))
        })?;
    VerifyingKey::from_bytes(&raw)
        .map_err(|_| BundleError::Format(format!("'{b64}' is not a valid Ed25519 public key")))
}

/// Checks that a text is a public key, for a list of trusted keys.
pub fn check_public_key(b64: &str) -> Result<(), BundleError> {
    public_key(b64).map(|_| ())
}

/// A short, stable name for a key that people can compare: the first 16 hex digits
/// of its bytes.
pub fn fingerprint(b64: &str) -> String {
    STANDARD
        .decode(b64.trim())
        .map(|b| b.iter().take(8).map(|x| format!("{x:02x}")).collect())
        .unwrap_or_default()
}

fn unsigned(bundle: &Value) -> Result<Value, BundleError> {
    let mut v = bundle.clone();
    v.as_object_mut()
        .ok_or_else(|| BundleError::Format("a bundle is a JSON object".into()))?
        .remove("signature");
    Ok(v)
}

/// Signs `bundle` (its `signature` member, if any, is replaced).
pub fn sign(bundle: &Value, key: &KeyPair) -> Result<Value, BundleError> {
    let body = unsigned(bundle)?;
    let sig = key.0.sign(canonical(&body).as_bytes());
    let mut out = body;
    out["signature"] = Value::String(STANDARD.encode(sig.to_bytes()));
    Ok(out)
}

/// Checks the bundle's signature against `public_key` (base64).
pub fn verify(bundle: &Value, public_key_b64: &str) -> Result<(), BundleError> {
    let key = public_key(public_key_b64)?;
    let sig_text = bundle
        .get("signature")
        .and_then(Value::as_str)
        .ok_or_else(|| BundleError::Format("the bundle is not signed (no signature)".into()))?;
    let raw: [u8; 64] = STANDARD
        .decode(sig_text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(BundleError::Tampered)?;
    let body = unsigned(bundle)?;
    key.verify(canonical(&body).as_bytes(), &Signature::from_bytes(&raw))
        .map_err(|_| BundleError::Tampered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn bundle() -> Value {
        json!({"format": "modgate.bundle/v1", "module": {"name": "Loyalty"},
               "version": {"patch": {"operations": [{"op": "add"}]}, "contentHash": "ab"}})
    }

    #[test]
    fn a_signed_bundle_verifies_and_any_change_is_caught() {
        let key = KeyPair::from_secret([7; 32]);
        let signed = sign(&bundle(), &key).unwrap();
        verify(&signed, &key.public_b64()).unwrap();
        let mut changed = signed.clone();
        changed["module"]["name"] = json!("Loyalty2");
        assert_eq!(
            verify(&changed, &key.public_b64()),
            Err(BundleError::Tampered)
        );
        let other = KeyPair::from_secret([8; 32]);
        assert_eq!(
            verify(&signed, &other.public_b64()),
            Err(BundleError::Tampered)
        );
        let mut unsigned = signed.clone();
        unsigned.as_object_mut().unwrap().remove("signature");
        assert!(matches!(
            verify(&unsigned, &key.public_b64()),
            Err(BundleError::Format(_))
        ));
        assert!(matches!(
            verify(&signed, "not a key"),
            Err(BundleError::Format(_))
        ));
        // The secret survives sealing as text.
        let again = KeyPair::from_secret_b64(&key.secret_b64()).unwrap();
        assert_eq!(again.public_b64(), key.public_b64());
        assert_eq!(fingerprint(&key.public_b64()).len(), 16);
    }

    proptest! {
        #[test]
        fn flipping_any_character_of_a_string_breaks_the_signature(name in "[a-z]{1,12}", at in 0usize..12) {
            let key = KeyPair::from_secret([3; 32]);
            let mut b = bundle();
            b["module"]["name"] = json!(name.clone());
            let signed = sign(&b, &key).unwrap();
            let mut chars: Vec<char> = name.chars().collect();
            let i = at % chars.len();
            chars[i] = if chars[i] == 'z' { 'a' } else { 'z' };
            let mut changed = signed.clone();
            changed["module"]["name"] = json!(chars.into_iter().collect::<String>());
            prop_assert_eq!(verify(&changed, &key.public_b64()), Err(BundleError::Tampered));
            prop_assert!(verify(&signed, &key.public_b64()).is_ok());
        }
    }
}

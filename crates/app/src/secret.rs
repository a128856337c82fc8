//! The instance secret: key material for encrypting secrets (such as model API keys)
//! at rest. From `MODGATE_SECRET_KEY`, or generated once into the data dir (mode 0600).

use crate::config::Config;
use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;

/// 32 bytes of key material. Never printed.
#[derive(Clone)]
pub struct InstanceSecret([u8; 32]);

impl std::fmt::Debug for InstanceSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InstanceSecret(<redacted>)")
    }
}

/// A sealed value that does not open with this secret (changed secret, altered value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the sealed value cannot be opened with this instance's secret")]
pub struct OpenError;

impl InstanceSecret {
    pub fn key(&self) -> &[u8; 32] {
        &self.0
    }

    /// Derives a sub-key for one purpose, so one secret can serve several uses
    /// without reusing key material between them.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.0);
        h.update(purpose.as_bytes());
        h.finalize().into()
    }

    /// Encrypts `plaintext` (AES-256-GCM, a random nonce, a key derived for `purpose`),
    /// bound to `context` (such as the row id) so a sealed value moved to another row
    /// does not open. Returns `v1:` + base64(nonce ‖ ciphertext).
    pub fn seal(&self, purpose: &str, context: &str, plaintext: &str) -> String {
        let cipher = Aes256Gcm::new(&self.derive(purpose).into());
        let nonce: [u8; 12] = rand::random();
        let ct = cipher
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encrypts any message of this size");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("v1:{}", STANDARD.encode(out))
    }

    /// Opens what [`InstanceSecret::seal`] sealed. Fails when the secret, the purpose
    /// or the context differ, or the value was altered.
    pub fn open(&self, purpose: &str, context: &str, sealed: &str) -> Result<String, OpenError> {
        let raw = sealed
            .strip_prefix("v1:")
            .and_then(|b| STANDARD.decode(b).ok())
            .filter(|r| r.len() > 12)
            .ok_or(OpenError)?;
        let (nonce, ct) = raw.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| OpenError)?;
        let cipher = Aes256Gcm::new(&self.derive(purpose).into());
        let pt = cipher
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: ct,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| OpenError)?;
        String::from_utf8(pt).map_err(|_| OpenError)
    }

    pub fn load_or_create(cfg: &Config) -> anyhow::Result<InstanceSecret> {
        if let Some(k) = &cfg.secret_key {
            return Ok(InstanceSecret(Sha256::digest(k.expose().as_bytes()).into()));
        }
        let path = cfg.data_dir.join("secret.key");
        if path.exists() {
            let text = std::fs::read_to_string(&path)?;
            let bytes = hex::decode(text.trim())
                .map_err(|_| anyhow::anyhow!("{} is not a hex-encoded key", path.display()))?;
            let key: [u8; 32] = bytes
                .try_into()
                .map_err(|_| anyhow::anyhow!("{} must hold 32 bytes", path.display()))?;
            return Ok(InstanceSecret(key));
        }
        let key: [u8; 32] = rand::random();
        write_private(&path, &hex::encode(key))?;
        Ok(InstanceSecret(key))
    }
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config {
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        let a = InstanceSecret::load_or_create(&cfg).unwrap();
        let b = InstanceSecret::load_or_create(&cfg).unwrap();
        assert_eq!(a.key(), b.key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secret.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_ne!(a.derive("a"), a.derive("b"));
        assert!(!format!("{a:?}").contains(&hex::encode(a.key())));
    }

    #[test]
    fn sealed_values_open_only_with_the_same_secret_purpose_and_context() {
        let a = InstanceSecret([7; 32]);
        let b = InstanceSecret([8; 32]);
        let sealed = a.seal("model-api-key", "row-1", "sk-secret-value-1234");
        assert!(!sealed.contains("sk-secret"));
        assert_ne!(
            sealed,
            a.seal("model-api-key", "row-1", "sk-secret-value-1234"),
            "random nonce"
        );
        assert_eq!(
            a.open("model-api-key", "row-1", &sealed).unwrap(),
            "sk-secret-value-1234"
        );
        assert_eq!(a.open("model-api-key", "row-2", &sealed), Err(OpenError));
        assert_eq!(a.open("other", "row-1", &sealed), Err(OpenError));
        assert_eq!(b.open("model-api-key", "row-1", &sealed), Err(OpenError));
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            a.open(
                "model-api-key",
                "row-1",
                std::str::from_utf8(&tampered).unwrap()
            ),
            Err(OpenError)
        );
        assert_eq!(a.open("model-api-key", "row-1", "v1:"), Err(OpenError));
        assert_eq!(a.open("model-api-key", "row-1", "garbage"), Err(OpenError));
    }
}

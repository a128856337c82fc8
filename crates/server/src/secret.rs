//! The instance secret: key material for encrypting secrets (such as model API keys)
//! at rest. From `MODGATE_SECRET_KEY`, or generated once into the data dir (mode 0600).

use crate::config::Config;
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
}

//! Moving modules between instances (docs/bundles.md): this instance's signing
//! identity, the keys it trusts, exporting a version as a signed bundle, and
//! importing one — verified, re-validated here, and saved as a draft that goes
//! through this instance's own testing, review and publishing.

use crate::error::{AppError, AppResult, FieldErrors, Problem};
use crate::modules::{self, SaveInput, Source, VersionView};
use crate::time::rfc3339;
use crate::{App, Caller};
use access::Permission;
use bundle::{BundleError, FORMAT, KeyPair};
use serde::Serialize;
use serde_json::{Value, json};
use store::audit::{self, Outcome};
use store::bundles::{Identity, TrustedKey};
use store::{new_id, now_ms};

/// The purpose the signing key is sealed for (see `secret`).
const KEY_PURPOSE: &str = "instance-signing-key";

/// On first start: this instance's id and key pair. Idempotent across replicas.
pub async fn ensure_identity(app: &App) -> AppResult<()> {
    if store::bundles::identity(&app.db).await?.is_some() {
        return Ok(());
    }
    let key = KeyPair::from_secret(rand::random());
    let instance_id = new_id();
    let identity = Identity {
        private_key_enc: app
            .secret
            .seal(KEY_PURPOSE, &instance_id, &key.secret_b64()),
        public_key: key.public_b64(),
        instance_id,
        created_at: now_ms(),
    };
    store::bundles::create_identity(&app.db, &identity).await?;
    Ok(())
}

async fn identity(app: &App) -> AppResult<(Identity, KeyPair)> {
    ensure_identity(app).await?;
    let id = store::bundles::identity(&app.db)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the instance identity is missing")))?;
    let secret = app
        .secret
        .open(KEY_PURPOSE, &id.instance_id, &id.private_key_enc)
        .map_err(|_| {
            AppError::conflict(
                "this instance's signing key cannot be read with its secret (was MODGATE_SECRET_KEY changed?)",
            )
        })?;
    let key = KeyPair::from_secret_b64(&secret).map_err(|e| AppError::Internal(e.into()))?;
    Ok((id, key))
}

/// What administrators see of this instance, to give to the instances that should
/// trust it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InstanceView {
    pub instance_id: String,
    /// Ed25519, base64.
    pub public_key: String,
    /// The key's first 8 bytes in hex, to compare by eye.
    pub fingerprint: String,
}

pub async fn instance(app: &App, by: &Caller) -> AppResult<InstanceView> {
    by.require(Permission::UsersManage)?;
    let (id, _) = identity(app).await?;
    Ok(InstanceView {
        fingerprint: bundle::fingerprint(&id.public_key),
        instance_id: id.instance_id,
        public_key: id.public_key,
    })
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TrustedKeyView {
    pub id: String,
    pub name: String,
    pub public_key: String,
    pub fingerprint: String,
    pub added_by: String,
    pub added_at: String,
}

impl From<TrustedKey> for TrustedKeyView {
    fn from(k: TrustedKey) -> Self {
        TrustedKeyView {
            fingerprint: bundle::fingerprint(&k.public_key),
            id: k.id,
            name: k.name,
            public_key: k.public_key,
            added_by: k.added_by,
            added_at: rfc3339(k.added_at),
        }
    }
}

pub async fn trusted(app: &App, by: &Caller) -> AppResult<Vec<TrustedKeyView>> {
    by.require(Permission::UsersManage)?;
    Ok(store::bundles::trusted(&app.db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

fn key_audit(by: &Caller, action: &str, k: &TrustedKey) -> store::audit::NewEntry {
    let mut e = by.audit(action, Outcome::Success);
    e.resource_type = Some("trusted_key".into());
    e.resource_id = Some(k.id.clone());
    e.details = json!({ "name": k.name, "fingerprint": bundle::fingerprint(&k.public_key) });
    e
}

/// Trusts another instance's public key: bundles it signed may be imported.
pub async fn trust(
    app: &App,
    by: &Caller,
    name: &str,
    public_key: &str,
) -> AppResult<TrustedKeyView> {
    by.require(Permission::UsersManage)?;
    let mut errs = FieldErrors::default();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        errs.add(
            "name",
            "must be 1 to 80 characters without control characters",
        );
    }
    if let Err(e) = bundle::check_public_key(public_key) {
        errs.add("publicKey", e.to_string());
    }
    errs.into_result()?;
    let k = TrustedKey {
        id: new_id(),
        name: name.to_owned(),
        public_key: public_key.trim().to_owned(),
        added_by: by.username.clone(),
        added_at: now_ms(),
    };
    let mut tx = app.db.begin().await?;
    store::bundles::trust(&mut tx, &k)
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict(_) => {
                AppError::conflict("this name or this key is already trusted")
            }
            e => e.into(),
        })?;
    audit::append(&mut tx, key_audit(by, "trusted_key.add", &k)).await?;
    tx.commit().await?;
    Ok(k.into())
}

pub async fn distrust(app: &App, by: &Caller, id: &str) -> AppResult<()> {
    by.require(Permission::UsersManage)?;
    let mut tx = app.db.begin().await?;
    let k = store::bundles::distrust(&mut tx, id).await?;
    audit::append(&mut tx, key_audit(by, "trusted_key.remove", &k)).await?;
    tx.commit().await?;
    Ok(())
}

/// Version `n` (default: the current one) of the module as a signed bundle.
pub async fn export(app: &App, by: &Caller, module_id: &str, n: Option<i64>) -> AppResult<Value> {
    let module = modules::get(app, by, module_id).await?;
    let n = n.unwrap_or(module.current_version);
    let v = modules::version(app, by, module_id, n).await?;
    let patch: Value = serde_json::from_str(&v.patch).map_err(|_| {
        AppError::conflict(format!(
            "version {n} is not a JSON patch document and cannot be exported"
        ))
    })?;
    let release = store::publications::releases(&app.db, module_id)
        .await?
        .into_iter()
        .rfind(|r| r.version == n && r.action == "publish")
        .map(|r| json!({ "name": r.release, "changelog": r.changelog, "publishedAt": rfc3339(r.at) }));
    let (me, key) = identity(app).await?;
    // A module that came from elsewhere keeps its first origin, so it can go on.
    let origin = store::modules::origin(&app.db, module_id)
        .await?
        .and_then(|o| serde_json::from_str::<Value>(&o).ok())
        .unwrap_or_else(|| json!({ "instanceId": me.instance_id, "moduleId": module.id }));
    let body = json!({
        "format": FORMAT,
        "module": { "name": module.name, "description": module.description },
        "origin": origin,
        "version": {
            "number": n, "patch": patch, "contentHash": v.content_hash, "message": v.message,
            "scenarios": patch.get("tests").cloned().unwrap_or(json!([])),
        },
        "release": release,
        "provenance": {
            "author": v.author, "source": v.source.as_str(), "model": v.model, "prompt": v.prompt,
            "createdAt": rfc3339(v.created_at), "generation": v.generation, "imported": v.imported,
        },
        "exportedBy": by.username, "exportedAt": rfc3339(now_ms()),
        "signer": { "instanceId": me.instance_id, "publicKey": me.public_key },
    });
    let signed = bundle::sign(&body, &key).map_err(|e| AppError::Internal(e.into()))?;
    let mut e = by.audit("module.export", Outcome::Success);
    e.resource_type = Some("module".into());
    e.resource_id = Some(module.id.clone());
    e.details = json!({ "name": module.name, "version": n, "contentHash": v.content_hash });
    let mut tx = app.db.begin().await?;
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(signed)
}

/// What an import made.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Imported {
    pub module_id: String,
    pub module_name: String,
    /// Whether the module was created (else a new version of one imported before).
    pub created: bool,
    pub version: VersionView,
}

fn refused(code: &'static str, message: String) -> AppError {
    AppError::Invalid(Box::new(Problem::new(code, message)))
}

fn text<'a>(v: &'a Value, pointer: &str) -> AppResult<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .ok_or_else(|| refused("bad_bundle", format!("the bundle has no {pointer}")))
}

/// Verifies a bundle and saves its version here as a draft (docs/bundles.md).
pub async fn import(app: &App, by: &Caller, bundle_json: &Value) -> AppResult<Imported> {
    by.require(Permission::ModulesDevelop)?;
    if bundle_json.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(refused(
            "bad_bundle",
            format!("not a bundle: \"format\" must be \"{FORMAT}\""),
        ));
    }
    let signer = text(bundle_json, "/signer/publicKey")?;
    let signer_instance = text(bundle_json, "/signer/instanceId")?;
    let trusted = store::bundles::trusted(&app.db).await?;
    let Some(trusted_as) = trusted.iter().find(|k| k.public_key == signer.trim()) else {
        return Err(refused(
            "untrusted_key",
            format!(
                "the bundle is signed by instance {signer_instance} (key {}), which this instance does not trust; an administrator can add its key under Trusted keys",
                bundle::fingerprint(signer)
            ),
        ));
    };
    bundle::verify(bundle_json, signer).map_err(|e| match e {
        BundleError::Tampered => refused("tampered", e.to_string()),
        BundleError::Format(m) => refused("bad_bundle", m),
    })?;
    let patch = bundle_json
        .pointer("/version/patch")
        .filter(|p| p.is_object())
        .ok_or_else(|| refused("bad_bundle", "the bundle has no /version/patch".into()))?;
    // The signature covers the patch; the source's content hash is kept as provenance
    // (a tool that reorders keys changes the hash, not the content).
    let patch_text = serde_json::to_string_pretty(patch).map_err(anyhow::Error::from)?;
    let name = text(bundle_json, "/module/name")?;
    let description = bundle_json
        .pointer("/module/description")
        .and_then(Value::as_str)
        .unwrap_or("");
    let origin = bundle::canonical(bundle_json.get("origin").unwrap_or(&Value::Null));
    let (module_id, created) = match store::modules::by_origin(&app.db, &origin).await? {
        Some(id) => (id, false),
        None => {
            let m = modules::create(app, by, name, Some(description), None).await?;
            let mut tx = app.db.begin().await?;
            store::modules::set_origin(&mut tx, &m.id, &origin).await?;
            tx.commit().await?;
            (m.id, true)
        }
    };
    let module = modules::get(app, by, &module_id).await?;
    let number = bundle_json
        .pointer("/version/number")
        .cloned()
        .unwrap_or(Value::Null);
    let mut imported = bundle_json.get("provenance").cloned().unwrap_or(json!({}));
    imported["origin"] = bundle_json.get("origin").cloned().unwrap_or(Value::Null);
    imported["version"] = number.clone();
    imported["signer"] = json!({ "instanceId": signer_instance, "trustedAs": trusted_as.name,
        "fingerprint": bundle::fingerprint(signer) });
    imported["release"] = bundle_json.get("release").cloned().unwrap_or(Value::Null);
    imported["contentHash"] = bundle_json
        .pointer("/version/contentHash")
        .cloned()
        .unwrap_or(Value::Null);
    let provenance = bundle_json.get("provenance").cloned().unwrap_or(json!({}));
    // Saved like a person's edit: validated against this instance's live spec, and the
    // importer confirms an L2 patch by importing it. Tests, review and publishing here
    // are still ahead.
    let version = modules::save_version(
        app,
        by,
        &module_id,
        SaveInput {
            patch: patch_text,
            message: format!("Imported from instance {signer_instance} (version {number})"),
            base_version: module.current_version,
            confirm_l2: true,
            source: Source::Import,
            prompt: provenance
                .get("prompt")
                .and_then(Value::as_str)
                .map(str::to_owned),
            model: provenance
                .get("model")
                .and_then(Value::as_str)
                .map(str::to_owned),
            repairs: Vec::new(),
            generation: None,
            imported: Some(imported),
        },
    )
    .await?;
    let mut e = by.audit("module.import", Outcome::Success);
    e.resource_type = Some("module".into());
    e.resource_id = Some(module_id.clone());
    e.details = json!({ "name": module.name, "version": version.number, "created": created,
        "from": signer_instance, "trustedAs": trusted_as.name, "contentHash": version.content_hash });
    let mut tx = app.db.begin().await?;
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(Imported {
        module_id,
        module_name: module.name,
        created,
        version,
    })
}

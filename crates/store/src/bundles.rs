//! This instance's signing identity and the keys it trusts.

use crate::{Db, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Identity {
    pub instance_id: String,
    pub public_key: String,
    pub private_key_enc: String,
    pub created_at: i64,
}

pub async fn identity(db: &Db) -> Result<Option<Identity>, StoreError> {
    Ok(with_db!(db, c => sqlx::query_as(
        "SELECT instance_id, public_key, private_key_enc, created_at FROM instance_identity")
        .fetch_optional(c).await?))
}

/// Stores the identity unless one exists (replicas starting together agree on the
/// first); returns whether this one was stored.
pub async fn create_identity(db: &Db, i: &Identity) -> Result<bool, StoreError> {
    let n = with_db!(db, c => sqlx::query(
        "INSERT INTO instance_identity (singleton, instance_id, public_key, private_key_enc, created_at) \
         VALUES ('instance', $1, $2, $3, $4) ON CONFLICT (singleton) DO NOTHING")
        .bind(&i.instance_id).bind(&i.public_key).bind(&i.private_key_enc).bind(i.created_at)
        .execute(c).await?.rows_affected());
    Ok(n == 1)
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TrustedKey {
    pub id: String,
    pub name: String,
    pub public_key: String,
    pub added_by: String,
    pub added_at: i64,
}

pub async fn trusted(db: &Db) -> Result<Vec<TrustedKey>, StoreError> {
    Ok(with_db!(db, c => sqlx::query_as(
        "SELECT id, name, public_key, added_by, added_at FROM trusted_keys ORDER BY name")
        .fetch_all(c).await?))
}

/// [`StoreError::Conflict`] when the name or the key is already there.
pub async fn trust(tx: &mut Tx, k: &TrustedKey) -> Result<(), StoreError> {
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO trusted_keys (id, name, public_key, added_by, added_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&k.id).bind(&k.name).bind(&k.public_key).bind(&k.added_by).bind(k.added_at)
        .execute(c).await
        .map_err(StoreError::conflict_on_unique("a trusted key with this name or key"))?.rows_affected());
    Ok(())
}

pub async fn distrust(tx: &mut Tx, id: &str) -> Result<TrustedKey, StoreError> {
    let k: Option<TrustedKey> = with_tx!(tx, c => sqlx::query_as(
        "SELECT id, name, public_key, added_by, added_at FROM trusted_keys WHERE id = $1")
        .bind(id).fetch_optional(c).await?);
    let k = k.ok_or_else(|| StoreError::NotFound(format!("trusted key {id}")))?;
    with_tx!(tx, c => sqlx::query("DELETE FROM trusted_keys WHERE id = $1").bind(id).execute(c).await?.rows_affected());
    Ok(k)
}

//! Personal API tokens. The secret is shown once at creation; only its hash and a
//! short prefix (to recognise it in a list) are stored.

use crate::{Db, StoreError, Tx, new_id, now_ms};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct ApiToken {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str = "id, user_id, name, prefix, created_at, last_used_at, revoked_at";

pub async fn create(
    tx: &mut Tx,
    user_id: &str,
    name: &str,
    prefix: &str,
    token_hash: &str,
) -> Result<ApiToken, StoreError> {
    let token = ApiToken {
        id: new_id(),
        user_id: user_id.to_owned(),
        name: name.to_owned(),
        prefix: prefix.to_owned(),
        created_at: now_ms(),
        last_used_at: None,
        revoked_at: None,
    };
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&token.id)
    .bind(&token.user_id)
    .bind(&token.name)
    .bind(&token.prefix)
    .bind(token_hash)
    .bind(token.created_at)
    .execute(c)
    .await?.rows_affected());
    Ok(token)
}

pub async fn list_for_user(db: &Db, user_id: &str) -> Result<Vec<ApiToken>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC");
    Ok(
        with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_all(c).await?),
    )
}

/// Revokes the user's token `id`; `NotFound` when the user has no such live token.
pub async fn revoke(tx: &mut Tx, user_id: &str, id: &str) -> Result<(), StoreError> {
    let done = with_tx!(tx, c => sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
    )
    .bind(now_ms())
    .bind(id)
    .bind(user_id)
    .execute(c)
    .await?.rows_affected());
    if done == 0 {
        return Err(StoreError::NotFound(format!("token {id}")));
    }
    Ok(())
}

/// How stale `last_used_at` may get: writing it on every request would turn every
/// API read into a write.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

/// The owner and id of the live token with this hash; marks it used (to the minute).
pub async fn authenticate(
    db: &Db,
    token_hash: &str,
) -> Result<Option<(String, String)>, StoreError> {
    let row: Option<(String, String, Option<i64>)> = with_db!(db, c => sqlx::query_as(
        "SELECT id, user_id, last_used_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(token_hash)
    .fetch_optional(c)
    .await?);
    let Some((id, user_id, last_used)) = row else {
        return Ok(None);
    };
    let now = now_ms();
    if last_used.is_none_or(|t| now - t > LAST_USED_RESOLUTION_MS) {
        with_db!(db, c => sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(&id)
            .execute(c)
            .await?
            .rows_affected());
    }
    Ok(Some((id, user_id)))
}

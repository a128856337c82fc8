//! Personal API tokens: the caller's own, shown once, stored as hashes.

use crate::error::{AppError, AppResult};
use crate::{App, Caller, credentials};
use serde_json::json;
use store::audit::{self, Outcome};

pub use store::tokens::ApiToken;

pub async fn list(app: &App, by: &Caller) -> AppResult<Vec<ApiToken>> {
    Ok(store::tokens::list_for_user(&app.db, &by.id).await?)
}

/// Creates a token; returns it with its secret, which is never retrievable again.
pub async fn create(app: &App, by: &Caller, name: &str) -> AppResult<(ApiToken, String)> {
    // The limit is on the name as sent (the documented maxLength), then it is trimmed.
    if name.chars().count() > 100 || name.trim().is_empty() {
        return Err(AppError::invalid("name", "must be 1 to 100 characters"));
    }
    let name = name.trim();
    let secret = format!(
        "{}{}",
        credentials::API_TOKEN_PREFIX,
        credentials::random_token()
    );
    let prefix: String = secret.chars().take(10).collect();
    let mut tx = app.db.begin().await?;
    let token = store::tokens::create(
        &mut tx,
        &by.id,
        name,
        &prefix,
        &credentials::token_hash(&secret),
    )
    .await?;
    let mut e = by.audit("token.create", Outcome::Success);
    e.resource_type = Some("api_token".into());
    e.resource_id = Some(token.id.clone());
    e.details = json!({ "name": name, "prefix": prefix });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok((token, secret))
}

/// Revokes one of the caller's own tokens.
pub async fn revoke(app: &App, by: &Caller, id: &str) -> AppResult<()> {
    let mut tx = app.db.begin().await?;
    store::tokens::revoke(&mut tx, &by.id, id).await?;
    let mut e = by.audit("token.revoke", Outcome::Success);
    e.resource_type = Some("api_token".into());
    e.resource_id = Some(id.to_owned());
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    app.identities.clear();
    Ok(())
}

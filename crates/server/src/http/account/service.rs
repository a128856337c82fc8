use crate::auth::{CurrentUser, secrets};
use crate::error::ApiError;
use crate::http::extract::RequestMeta;
use crate::state::AppState;
use serde_json::json;
use store::audit::{self, Outcome};
use store::tokens::ApiToken;

/// Creates a token; returns it with its secret, which is never retrievable again.
pub async fn create(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    name: &str,
) -> Result<(ApiToken, String), ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid("name", "must be 1 to 100 characters"));
    }
    let secret = format!("{}{}", secrets::API_TOKEN_PREFIX, secrets::random_token());
    let prefix: String = secret.chars().take(10).collect();
    let mut tx = state.db.begin().await?;
    let token = store::tokens::create(
        &mut tx,
        &user.id,
        name,
        &prefix,
        &secrets::token_hash(&secret),
    )
    .await?;
    let mut e = meta.audit(Some(&user.username), "token.create", Outcome::Success);
    e.resource_type = Some("api_token".into());
    e.resource_id = Some(token.id.clone());
    e.details = json!({ "name": name, "prefix": prefix });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok((token, secret))
}

pub async fn revoke(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    id: &str,
) -> Result<(), ApiError> {
    let mut tx = state.db.begin().await?;
    store::tokens::revoke(&mut tx, &user.id, id).await?;
    let mut e = meta.audit(Some(&user.username), "token.revoke", Outcome::Success);
    e.resource_type = Some("api_token".into());
    e.resource_id = Some(id.to_owned());
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    state.identities.clear();
    Ok(())
}

//! Configured AI models. The API key arrives here already encrypted: this layer
//! never sees a key in the clear.

use crate::vocab::{parse, text_enum};
use crate::{Db, StoreError, Tx, now_ms};
use serde::{Deserialize, Serialize};

text_enum! {
    /// What the last connection test said; `untested` after a change it depends on.
    pub enum ModelStatus {
        Untested => "untested",
        Ok => "ok",
        Failing => "failing",
    }
}

/// Call settings of a model, stored as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelParams {
    pub temperature: Option<f64>,
    pub max_tokens: Option<i64>,
    pub timeout_ms: i64,
    pub retries: i64,
}

impl Default for ModelParams {
    fn default() -> Self {
        ModelParams {
            temperature: None,
            max_tokens: None,
            timeout_ms: 120_000,
            retries: 2,
        }
    }
}

/// A model configuration row.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    pub id: String,
    pub name: String,
    pub provider: String,
    pub base_url: String,
    pub model: String,
    /// Sealed key (see `app::secret`); `None` when no key is set.
    pub api_key_enc: Option<String>,
    pub api_key_mask: Option<String>,
    pub params: ModelParams,
    pub enabled: bool,
    pub is_default: bool,
    pub status: ModelStatus,
    pub last_test_at: Option<i64>,
    pub last_latency_ms: Option<i64>,
    /// The last connection test's result (JSON).
    pub last_result: Option<serde_json::Value>,
    /// Models that answer, in this order, when this one fails in a way another may not.
    pub fallback_model_ids: Vec<String>,
    /// `{"input", "cachedInput", "output", "currency"}` per million tokens (the
    /// application reads it as `llm::Prices`); `None`: calls are counted in tokens only.
    pub prices: Option<serde_json::Value>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    name: String,
    provider: String,
    base_url: String,
    model: String,
    api_key_enc: Option<String>,
    api_key_mask: Option<String>,
    params: String,
    enabled: bool,
    is_default: bool,
    status: String,
    last_test_at: Option<i64>,
    last_latency_ms: Option<i64>,
    last_result: Option<String>,
    fallback_model_ids: String,
    prices: Option<String>,
    created_at: i64,
    updated_at: i64,
}

const COLUMNS: &str = "id, name, provider, base_url, model, api_key_enc, api_key_mask, params, \
     enabled, is_default, status, last_test_at, last_latency_ms, last_result, fallback_model_ids, prices, \
     created_at, updated_at";

impl TryFrom<Row> for ModelConfig {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Self, StoreError> {
        let params = serde_json::from_str(&r.params)
            .map_err(|e| StoreError::Corrupt(format!("params of model {}: {e}", r.id)))?;
        let last_result =
            match r.last_result {
                Some(s) => Some(serde_json::from_str(&s).map_err(|e| {
                    StoreError::Corrupt(format!("last_result of model {}: {e}", r.id))
                })?),
                None => None,
            };
        let fallback_model_ids = serde_json::from_str(&r.fallback_model_ids).map_err(|e| {
            StoreError::Corrupt(format!("fallback_model_ids of model {}: {e}", r.id))
        })?;
        let prices = match r.prices {
            Some(p) => Some(
                serde_json::from_str(&p)
                    .map_err(|e| StoreError::Corrupt(format!("prices of model {}: {e}", r.id)))?,
            ),
            None => None,
        };
        Ok(ModelConfig {
            fallback_model_ids,
            prices,
            status: parse(&r.status, &format!("status of model {}", r.id))?,
            id: r.id,
            name: r.name,
            provider: r.provider,
            base_url: r.base_url,
            model: r.model,
            api_key_enc: r.api_key_enc,
            api_key_mask: r.api_key_mask,
            params,
            enabled: r.enabled,
            is_default: r.is_default,
            last_test_at: r.last_test_at,
            last_latency_ms: r.last_latency_ms,
            last_result,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn params_json(p: &ModelParams) -> String {
    serde_json::to_string(p).expect("params serialise")
}

fn fallbacks_json(m: &ModelConfig) -> String {
    serde_json::to_string(&m.fallback_model_ids).expect("ids serialise")
}

fn prices_json(m: &ModelConfig) -> Option<String> {
    m.prices
        .as_ref()
        .map(|p| serde_json::to_string(p).expect("prices serialise"))
}

pub async fn list(db: &Db) -> Result<Vec<ModelConfig>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM model_config ORDER BY is_default DESC, name");
    let rows: Vec<Row> =
        with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await?);
    rows.into_iter().map(ModelConfig::try_from).collect()
}

pub async fn get(db: &Db, id: &str) -> Result<Option<ModelConfig>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM model_config WHERE id = $1");
    let row: Option<Row> = with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?);
    row.map(ModelConfig::try_from).transpose()
}

/// The same, inside a transaction (the row as this transaction sees it).
pub async fn get_in(tx: &mut Tx, id: &str) -> Result<Option<ModelConfig>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM model_config WHERE id = $1");
    let row: Option<Row> = with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?);
    row.map(ModelConfig::try_from).transpose()
}

pub async fn default_model(db: &Db) -> Result<Option<ModelConfig>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM model_config WHERE is_default");
    let row: Option<Row> =
        with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_optional(c).await?);
    row.map(ModelConfig::try_from).transpose()
}

pub async fn count(db: &Db) -> Result<i64, StoreError> {
    let (n,): (i64,) =
        with_db!(db, c => sqlx::query_as("SELECT COUNT(*) FROM model_config").fetch_one(c).await?);
    Ok(n)
}

/// Inserts a model; the caller chose the id (the sealed key is bound to it).
/// [`StoreError::Conflict`] when the name is taken.
pub async fn insert(tx: &mut Tx, m: &ModelConfig) -> Result<(), StoreError> {
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO model_config (id, name, provider, base_url, model, api_key_enc, api_key_mask, params, \
         enabled, is_default, status, created_at, updated_at, fallback_model_ids, prices) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14)")
        .bind(&m.id).bind(&m.name).bind(&m.provider).bind(&m.base_url).bind(&m.model)
        .bind(&m.api_key_enc).bind(&m.api_key_mask).bind(params_json(&m.params))
        .bind(m.enabled).bind(m.is_default).bind(m.status.as_str()).bind(m.created_at)
        .bind(fallbacks_json(m)).bind(prices_json(m))
        .execute(c).await
        .map_err(StoreError::conflict_on_unique("a model with this name"))?.rows_affected());
    Ok(())
}

/// Writes the editable columns of `m` and its status.
pub async fn update(tx: &mut Tx, m: &ModelConfig) -> Result<(), StoreError> {
    let n = with_tx!(tx, c => sqlx::query(
        "UPDATE model_config SET name = $1, provider = $2, base_url = $3, model = $4, api_key_enc = $5, \
         api_key_mask = $6, params = $7, enabled = $8, status = $9, updated_at = $10, \
         fallback_model_ids = $12, prices = $13 WHERE id = $11")
        .bind(&m.name).bind(&m.provider).bind(&m.base_url).bind(&m.model).bind(&m.api_key_enc)
        .bind(&m.api_key_mask).bind(params_json(&m.params)).bind(m.enabled).bind(m.status.as_str())
        .bind(now_ms()).bind(&m.id).bind(fallbacks_json(m)).bind(prices_json(m))
        .execute(c).await
        .map_err(StoreError::conflict_on_unique("a model with this name"))?.rows_affected());
    if n == 0 {
        return Err(StoreError::NotFound(format!("model {}", m.id)));
    }
    Ok(())
}

pub async fn delete(tx: &mut Tx, id: &str) -> Result<(), StoreError> {
    let n = with_tx!(tx, c => sqlx::query("DELETE FROM model_config WHERE id = $1").bind(id).execute(c).await?.rows_affected());
    if n == 0 {
        return Err(StoreError::NotFound(format!("model {id}")));
    }
    Ok(())
}

/// Makes `id` the one default.
pub async fn set_default(tx: &mut Tx, id: &str) -> Result<(), StoreError> {
    let now = now_ms();
    with_tx!(tx, c => sqlx::query("UPDATE model_config SET is_default = FALSE, updated_at = $1 WHERE is_default AND id <> $2")
        .bind(now).bind(id).execute(c).await?.rows_affected());
    let n = with_tx!(tx, c => sqlx::query("UPDATE model_config SET is_default = TRUE, updated_at = $1 WHERE id = $2")
        .bind(now).bind(id).execute(c).await?.rows_affected());
    if n == 0 {
        return Err(StoreError::NotFound(format!("model {id}")));
    }
    Ok(())
}

/// Records a connection test's outcome.
pub async fn record_test(
    tx: &mut Tx,
    id: &str,
    status: ModelStatus,
    latency_ms: i64,
    result: &serde_json::Value,
) -> Result<(), StoreError> {
    with_tx!(tx, c => sqlx::query(
        "UPDATE model_config SET status = $1, last_test_at = $2, last_latency_ms = $3, last_result = $4 WHERE id = $5")
        .bind(status.as_str()).bind(now_ms()).bind(latency_ms).bind(result.to_string()).bind(id)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// Names of the models that list `id` among their fallbacks.
pub async fn falling_back_to(tx: &mut Tx, id: &str) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String, String)> = with_tx!(tx, c => sqlx::query_as(
        "SELECT name, fallback_model_ids FROM model_config WHERE id <> $1 ORDER BY name")
        .bind(id).fetch_all(c).await?);
    Ok(rows
        .into_iter()
        .filter(|(_, ids)| {
            serde_json::from_str::<Vec<String>>(ids).is_ok_and(|ids| ids.iter().any(|i| i == id))
        })
        .map(|(n, _)| n)
        .collect())
}

/// Names of the modules that use the model, for a refusal that names them.
pub async fn modules_using(tx: &mut Tx, id: &str) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = with_tx!(tx, c => sqlx::query_as(
        "SELECT name FROM ai_modules WHERE model_id = $1 ORDER BY name")
        .bind(id).fetch_all(c).await?);
    Ok(rows.into_iter().map(|(n,)| n).collect())
}

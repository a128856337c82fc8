//! The System Management menu: data, not code, so administrators can relabel,
//! reorder, hide and re-permission items.

use crate::{Db, StoreError, Tx, now_ms};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct MenuItem {
    pub id: String,
    pub parent_id: Option<String>,
    pub label: String,
    pub path: Option<String>,
    pub icon: Option<String>,
    pub sort_order: i64,
    pub permission: Option<String>,
    pub visible: bool,
}

const COLUMNS: &str = "id, parent_id, label, path, icon, sort_order, permission, visible";

/// Inserts the items that are not there yet; existing items keep their edits.
pub async fn seed(db: &Db, items: &[MenuItem]) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    for item in items {
        with_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO menu_items (id, parent_id, label, path, icon, sort_order, permission, visible, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&item.id)
        .bind(&item.parent_id)
        .bind(&item.label)
        .bind(&item.path)
        .bind(&item.icon)
        .bind(item.sort_order)
        .bind(&item.permission)
        .bind(item.visible)
        .bind(now_ms())
        .execute(c)
        .await?.rows_affected());
    }
    tx.commit().await
}

/// All items, parents before children, each level in display order.
pub async fn list(db: &Db) -> Result<Vec<MenuItem>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM menu_items ORDER BY sort_order, id");
    Ok(with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await?))
}

pub async fn get(tx: &mut Tx, id: &str) -> Result<Option<MenuItem>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM menu_items WHERE id = $1");
    Ok(
        with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?),
    )
}

/// What an administrator may change about an item.
#[derive(Debug, Clone, Default)]
pub struct MenuChanges {
    pub label: Option<String>,
    pub sort_order: Option<i64>,
    pub visible: Option<bool>,
    /// `Some(None)` removes the permission requirement.
    pub permission: Option<Option<String>>,
}

pub async fn update(tx: &mut Tx, id: &str, ch: &MenuChanges) -> Result<MenuItem, StoreError> {
    let Some(mut item) = get(tx, id).await? else {
        return Err(StoreError::NotFound(format!("menu item {id}")));
    };
    if let Some(v) = &ch.label {
        item.label = v.clone();
    }
    if let Some(v) = ch.sort_order {
        item.sort_order = v;
    }
    if let Some(v) = ch.visible {
        item.visible = v;
    }
    if let Some(v) = &ch.permission {
        item.permission = v.clone();
    }
    with_tx!(tx, c => sqlx::query(
        "UPDATE menu_items SET label = $1, sort_order = $2, visible = $3, permission = $4, updated_at = $5 WHERE id = $6",
    )
    .bind(&item.label)
    .bind(item.sort_order)
    .bind(item.visible)
    .bind(&item.permission)
    .bind(now_ms())
    .bind(id)
    .execute(c)
    .await?.rows_affected());
    Ok(item)
}

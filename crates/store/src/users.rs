//! Platform user accounts.

use crate::{Db, StoreError, Tx, new_id, now_ms};
use access::PlatformRole;
use std::collections::BTreeMap;

/// A user as the rest of the system sees it (never with the password hash).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub roles: Vec<PlatformRole>,
    pub business_roles: Vec<String>,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    username: String,
    display_name: String,
    email: Option<String>,
    business_roles: String,
    active: bool,
    created_at: i64,
    updated_at: i64,
}

impl UserRow {
    fn into_user(self, roles: Vec<PlatformRole>) -> Result<User, StoreError> {
        let business_roles = serde_json::from_str(&self.business_roles)
            .map_err(|e| StoreError::Corrupt(format!("business_roles of user {}: {e}", self.id)))?;
        Ok(User {
            id: self.id,
            username: self.username,
            display_name: self.display_name,
            email: self.email,
            roles,
            business_roles,
            active: self.active,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const COLUMNS: &str =
    "id, username, display_name, email, business_roles, active, created_at, updated_at";

/// A user to create; the password is already hashed by the caller.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub roles: Vec<PlatformRole>,
    pub business_roles: Vec<String>,
}

/// A partial change to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub email: Option<Option<String>>,
    pub roles: Option<Vec<PlatformRole>>,
    pub business_roles: Option<Vec<String>>,
    pub active: Option<bool>,
}

fn parse_roles(
    rows: Vec<(String, String)>,
) -> Result<BTreeMap<String, Vec<PlatformRole>>, StoreError> {
    let mut map: BTreeMap<String, Vec<PlatformRole>> = BTreeMap::new();
    for (user_id, role) in rows {
        let role = role
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("role of user {user_id}: {e}")))?;
        map.entry(user_id).or_default().push(role);
    }
    for roles in map.values_mut() {
        roles.sort();
    }
    Ok(map)
}

/// Creates a user with its roles. Fails with [`StoreError::Conflict`] when the
/// username is taken.
pub async fn insert(tx: &mut Tx, new: &NewUser) -> Result<User, StoreError> {
    let id = new_id();
    let now = now_ms();
    let business = serde_json::to_string(&new.business_roles).expect("strings serialise");
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO users (id, username, display_name, email, password_hash, business_roles, active, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $7)",
    )
    .bind(&id)
    .bind(&new.username)
    .bind(&new.display_name)
    .bind(&new.email)
    .bind(&new.password_hash)
    .bind(&business)
    .bind(now)
    .execute(c)
    .await
    .map_err(StoreError::conflict_on_unique("username"))?.rows_affected());
    set_roles(tx, &id, &new.roles).await?;
    let mut roles = new.roles.clone();
    roles.sort();
    roles.dedup();
    Ok(User {
        id,
        username: new.username.clone(),
        display_name: new.display_name.clone(),
        email: new.email.clone(),
        roles,
        business_roles: new.business_roles.clone(),
        active: true,
        created_at: now,
        updated_at: now,
    })
}

async fn set_roles(tx: &mut Tx, user_id: &str, roles: &[PlatformRole]) -> Result<(), StoreError> {
    with_tx!(tx, c => sqlx::query("DELETE FROM user_roles WHERE user_id = $1")
        .bind(user_id)
        .execute(c)
        .await?.rows_affected());
    let mut roles = roles.to_vec();
    roles.sort();
    roles.dedup();
    for role in roles {
        with_tx!(tx, c => sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
            .bind(user_id)
            .bind(role.as_str())
            .execute(c)
            .await?.rows_affected());
    }
    Ok(())
}

pub async fn get(db: &Db, id: &str) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    let row: Option<UserRow> = with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?);
    let Some(row) = row else { return Ok(None) };
    let roles: Vec<(String, String)> = with_db!(db, c => sqlx::query_as(
        "SELECT user_id, role FROM user_roles WHERE user_id = $1",
    )
    .bind(id)
    .fetch_all(c)
    .await?);
    let roles = parse_roles(roles)?.remove(id).unwrap_or_default();
    row.into_user(roles).map(Some)
}

/// The user named `username` and their password hash, for login.
pub async fn credentials(db: &Db, username: &str) -> Result<Option<(User, String)>, StoreError> {
    let row: Option<(String, String)> = with_db!(db, c => sqlx::query_as(
        "SELECT id, password_hash FROM users WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(c)
    .await?);
    let Some((id, hash)) = row else {
        return Ok(None);
    };
    Ok(get(db, &id).await?.map(|u| (u, hash)))
}

pub async fn list(db: &Db) -> Result<Vec<User>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY username");
    let rows: Vec<UserRow> =
        with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await?);
    let roles: Vec<(String, String)> = with_db!(db, c => sqlx::query_as("SELECT user_id, role FROM user_roles").fetch_all(c).await?);
    let mut roles = parse_roles(roles)?;
    rows.into_iter()
        .map(|r| {
            let rs = roles.remove(&r.id).unwrap_or_default();
            r.into_user(rs)
        })
        .collect()
}

pub async fn count(db: &Db) -> Result<i64, StoreError> {
    let (n,): (i64,) =
        with_db!(db, c => sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(c).await?);
    Ok(n)
}

/// Applies `changes` to user `id`, or fails with `NotFound`.
pub async fn update(tx: &mut Tx, id: &str, changes: &UserChanges) -> Result<(), StoreError> {
    let now = now_ms();
    let exists: Option<(String,)> = with_tx!(tx, c => sqlx::query_as("SELECT id FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(c)
        .await?);
    if exists.is_none() {
        return Err(StoreError::NotFound(format!("user {id}")));
    }
    if let Some(v) = &changes.display_name {
        with_tx!(tx, c => sqlx::query("UPDATE users SET display_name = $1, updated_at = $2 WHERE id = $3")
            .bind(v).bind(now).bind(id).execute(c).await?.rows_affected());
    }
    if let Some(v) = &changes.email {
        with_tx!(tx, c => sqlx::query("UPDATE users SET email = $1, updated_at = $2 WHERE id = $3")
            .bind(v).bind(now).bind(id).execute(c).await?.rows_affected());
    }
    if let Some(v) = &changes.business_roles {
        let json = serde_json::to_string(v).expect("strings serialise");
        with_tx!(tx, c => sqlx::query("UPDATE users SET business_roles = $1, updated_at = $2 WHERE id = $3")
            .bind(json).bind(now).bind(id).execute(c).await?.rows_affected());
    }
    if let Some(v) = changes.active {
        with_tx!(tx, c => sqlx::query("UPDATE users SET active = $1, updated_at = $2 WHERE id = $3")
            .bind(v).bind(now).bind(id).execute(c).await?.rows_affected());
    }
    if let Some(roles) = &changes.roles {
        set_roles(tx, id, roles).await?;
        with_tx!(tx, c => sqlx::query("UPDATE users SET updated_at = $1 WHERE id = $2")
            .bind(now).bind(id).execute(c).await?.rows_affected());
    }
    Ok(())
}

pub async fn set_password(tx: &mut Tx, id: &str, password_hash: &str) -> Result<(), StoreError> {
    let done = with_tx!(tx, c => sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(password_hash)
        .bind(now_ms())
        .bind(id)
        .execute(c)
        .await?.rows_affected());
    if done == 0 {
        return Err(StoreError::NotFound(format!("user {id}")));
    }
    Ok(())
}

/// How many active users hold `role`: the last active admin must not lock everyone out.
pub async fn count_active_with_role(tx: &mut Tx, role: PlatformRole) -> Result<i64, StoreError> {
    let (n,): (i64,) = with_tx!(tx, c => sqlx::query_as(
        "SELECT COUNT(*) FROM users u JOIN user_roles r ON r.user_id = u.id \
         WHERE r.role = $1 AND u.active = TRUE",
    )
    .bind(role.as_str())
    .fetch_one(c)
    .await?);
    Ok(n)
}

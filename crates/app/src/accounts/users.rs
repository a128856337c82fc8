//! Platform users: input becomes a validated value once, and every change commits
//! with its audit row. The only writer of `user.*` audit actions.

use crate::error::{AppError, AppResult, FieldErrors};
use crate::{App, Caller, credentials};
use access::{Permission, PlatformRole};
use serde_json::{Value, json};
use store::audit::{self, Outcome};
use store::users::{NewUser, UserChanges};

pub use store::users::User;

/// Usernames: 2–32 of `a-z 0-9 . _ -`, starting with a letter or digit; stored lower-case.
pub fn parse_username(raw: &str) -> Result<String, String> {
    let name = raw.trim().to_lowercase();
    let n = name.chars().count();
    if !(2..=32).contains(&n) {
        return Err("must be 2 to 32 characters".into());
    }
    let mut chars = name.chars();
    let first = chars.next().unwrap_or(' ');
    if !first.is_ascii_alphanumeric() {
        return Err("must start with a letter or digit".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
    {
        return Err("may only contain letters, digits, '.', '_' and '-'".into());
    }
    Ok(name)
}

pub fn parse_email(raw: &str) -> Result<Option<String>, String> {
    let e = raw.trim();
    if e.is_empty() {
        return Ok(None);
    }
    let valid = e.len() <= 254
        && !e.chars().any(char::is_whitespace)
        && matches!(e.split_once('@'), Some((l, d)) if !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.') && !d.contains('@'));
    if valid {
        Ok(Some(e.to_owned()))
    } else {
        Err(format!("'{e}' is not an email address"))
    }
}

pub fn parse_display_name(raw: &str, fallback: &str) -> Result<String, String> {
    let d = raw.trim();
    if d.chars().count() > 100 {
        return Err("must be at most 100 characters".into());
    }
    Ok(if d.is_empty() {
        fallback.to_owned()
    } else {
        d.to_owned()
    })
}

pub fn parse_roles(raw: &[String]) -> Result<Vec<PlatformRole>, String> {
    let mut out = Vec::new();
    for r in raw {
        let role = r.trim().parse::<PlatformRole>().map_err(|_| {
            let known: Vec<_> = PlatformRole::ALL.iter().map(|r| r.as_str()).collect();
            format!(
                "unknown platform role '{r}'; known roles: {}",
                known.join(", ")
            )
        })?;
        if !out.contains(&role) {
            out.push(role);
        }
    }
    out.sort();
    Ok(out)
}

/// Business roles name roles of the application spec (`sales`, `finance` …): camelCase identifiers.
pub fn parse_business_roles(raw: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for r in raw.iter().map(|r| r.trim()).filter(|r| !r.is_empty()) {
        let ok = r.len() <= 40
            && r.starts_with(|c: char| c.is_ascii_lowercase())
            && r.chars().all(|c| c.is_ascii_alphanumeric());
        if !ok {
            return Err(format!(
                "'{r}' is not a role name (camelCase letters and digits, up to 40)"
            ));
        }
        if !out.iter().any(|x| x == r) {
            out.push(r.to_owned());
        }
    }
    Ok(out)
}

/// A request to create a user, before parsing.
#[derive(Debug, Default, Clone)]
pub struct CreateInput {
    pub username: String,
    pub password: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub roles: Vec<String>,
    pub business_roles: Vec<String>,
}

pub async fn list(app: &App, by: &Caller) -> AppResult<Vec<User>> {
    by.require(Permission::UsersManage)?;
    Ok(store::users::list(&app.db).await?)
}

pub async fn get(app: &App, by: &Caller, id: &str) -> AppResult<User> {
    by.require(Permission::UsersManage)?;
    store::users::get(&app.db, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("user {id}")))
}

pub async fn create(app: &App, by: &Caller, input: CreateInput) -> AppResult<User> {
    by.require(Permission::UsersManage)?;
    let mut errs = FieldErrors::default();
    let username = parse_username(&input.username)
        .map_err(|m| errs.add("username", m))
        .ok();
    let display_name = parse_display_name(
        input.display_name.as_deref().unwrap_or(""),
        username.as_deref().unwrap_or(""),
    )
    .map_err(|m| errs.add("displayName", m))
    .ok();
    let email = parse_email(input.email.as_deref().unwrap_or(""))
        .map_err(|m| errs.add("email", m))
        .ok();
    if let Err(m) = credentials::check_policy(&input.password) {
        errs.add("password", m);
    }
    let roles = parse_roles(&input.roles)
        .map_err(|m| errs.add("roles", m))
        .ok();
    let business_roles = parse_business_roles(&input.business_roles)
        .map_err(|m| errs.add("businessRoles", m))
        .ok();
    errs.into_result()?;
    let (Some(username), Some(display_name), Some(email), Some(roles), Some(business_roles)) =
        (username, display_name, email, roles, business_roles)
    else {
        return Err(AppError::Internal(anyhow::anyhow!(
            "a parsed field is missing without a field error"
        )));
    };
    let new = NewUser {
        username,
        display_name,
        email,
        password_hash: credentials::hash(&input.password).await?,
        roles,
        business_roles,
    };
    let mut tx = app.db.begin().await?;
    let user = store::users::insert(&mut tx, &new)
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict(_) => {
                AppError::conflict(format!("a user named '{}' already exists", new.username))
            }
            e => e.into(),
        })?;
    let mut e = by.audit("user.create", Outcome::Success);
    e.resource_type = Some("user".into());
    e.resource_id = Some(user.id.clone());
    e.details = json!({ "username": user.username, "roles": user.roles, "businessRoles": user.business_roles });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(user)
}

/// A request to change a user, before parsing; `None` leaves a field unchanged.
#[derive(Debug, Default, Clone)]
pub struct UpdateInput {
    pub display_name: Option<String>,
    pub email: Option<Option<String>>,
    pub roles: Option<Vec<String>>,
    pub business_roles: Option<Vec<String>>,
    pub active: Option<bool>,
}

pub async fn update(app: &App, by: &Caller, id: &str, input: UpdateInput) -> AppResult<User> {
    let before = get(app, by, id).await?;
    let mut errs = FieldErrors::default();
    let mut ch = UserChanges::default();
    if let Some(d) = &input.display_name {
        ch.display_name = parse_display_name(d, &before.username)
            .map_err(|m| errs.add("displayName", m))
            .ok();
    }
    if let Some(e) = &input.email {
        ch.email = parse_email(e.as_deref().unwrap_or(""))
            .map_err(|m| errs.add("email", m))
            .ok();
    }
    if let Some(r) = &input.roles {
        ch.roles = parse_roles(r).map_err(|m| errs.add("roles", m)).ok();
    }
    if let Some(r) = &input.business_roles {
        ch.business_roles = parse_business_roles(r)
            .map_err(|m| errs.add("businessRoles", m))
            .ok();
    }
    ch.active = input.active;
    errs.into_result()?;

    let mut changes = serde_json::Map::new();
    let mut note = |field: &str, from: Value, to: Value| {
        if from != to {
            changes.insert(field.to_owned(), json!({ "from": from, "to": to }));
        }
    };
    if let Some(v) = &ch.display_name {
        note("displayName", json!(before.display_name), json!(v));
    }
    if let Some(v) = &ch.email {
        note("email", json!(before.email), json!(v));
    }
    if let Some(v) = &ch.roles {
        note("roles", json!(before.roles), json!(v));
    }
    if let Some(v) = &ch.business_roles {
        note("businessRoles", json!(before.business_roles), json!(v));
    }
    if let Some(v) = ch.active {
        note("active", json!(before.active), json!(v));
    }

    let mut tx = app.db.begin().await?;
    store::users::update(&mut tx, id, &ch).await?;
    // Nobody may lock the platform out of its own administration.
    if store::users::count_active_with_role(&mut tx, PlatformRole::Admin).await? == 0 {
        return Err(AppError::conflict(
            "this would leave no active administrator; make someone else admin first",
        ));
    }
    if ch.active == Some(false) {
        store::sessions::delete_for_user(&mut tx, id).await?;
    }
    let mut e = by.audit("user.update", Outcome::Success);
    e.resource_type = Some("user".into());
    e.resource_id = Some(id.to_owned());
    e.details = json!({ "username": before.username, "changes": changes });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    app.identities.clear();
    get(app, by, id).await
}

/// Sets a new password and ends the user's sessions.
pub async fn reset_password(app: &App, by: &Caller, id: &str, new_password: &str) -> AppResult<()> {
    let user = get(app, by, id).await?;
    credentials::check_policy(new_password).map_err(|m| AppError::invalid("password", m))?;
    let hash = credentials::hash(new_password).await?;
    let mut tx = app.db.begin().await?;
    store::users::set_password(&mut tx, id, &hash).await?;
    store::sessions::delete_for_user(&mut tx, id).await?;
    let mut e = by.audit("user.password_reset", Outcome::Success);
    e.resource_type = Some("user".into());
    e.resource_id = Some(id.to_owned());
    e.details = json!({ "username": user.username });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    app.identities.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(parse_username(" Alice ").unwrap(), "alice");
        assert!(parse_username("a").is_err());
        assert!(parse_username("-alice").is_err());
        assert!(parse_username("al ice").is_err());
        assert!(parse_username("<script>").is_err());
        assert!(parse_username(&"a".repeat(33)).is_err());
        assert_eq!(parse_username("dev.ops_1-x").unwrap(), "dev.ops_1-x");
    }

    #[test]
    fn emails_roles_business_roles() {
        assert_eq!(parse_email("").unwrap(), None);
        assert!(parse_email("a@b.co").unwrap().is_some());
        assert!(parse_email("a@b").is_err());
        assert!(parse_email("a b@c.d").is_err());
        assert!(parse_email("@c.d").is_err());
        let r = parse_roles(&["reviewer".into(), "developer".into(), "reviewer".into()]).unwrap();
        assert_eq!(r, vec![PlatformRole::Developer, PlatformRole::Reviewer]);
        let err = parse_roles(&["root".into()]).unwrap_err();
        assert!(err.contains("'root'") && err.contains("developer"));
        assert_eq!(
            parse_business_roles(&["sales".into(), " ".into(), "sales".into()]).unwrap(),
            vec!["sales"]
        );
        assert!(parse_business_roles(&["Sales".into()]).is_err());
    }
}

//! First-start data: roles and permissions, the System Management menu, the first admin.
//! Every step is idempotent, so replicas starting together cannot double-seed.

use crate::auth::password;
use access::{Permission, PlatformRole};
use rand::Rng;
use store::menus::MenuItem;
use store::{Db, StoreError};

/// The menu of DESIGN §1. Items whose pages a later version adds stay hidden until then.
pub fn system_menu() -> Vec<MenuItem> {
    let item =
        |id: &str, label: &str, path: &str, order: i64, p: Permission, icon: &str| MenuItem {
            id: id.to_owned(),
            parent_id: Some("system".to_owned()),
            label: label.to_owned(),
            path: Some(path.to_owned()),
            icon: Some(icon.to_owned()),
            sort_order: order,
            permission: Some(p.as_str().to_owned()),
            visible: true,
        };
    vec![
        MenuItem {
            id: "system".into(),
            parent_id: None,
            label: "System Management".into(),
            path: None,
            icon: Some("settings".into()),
            sort_order: 100,
            permission: None,
            visible: true,
        },
        item(
            "system.ai-models",
            "AI Model Configuration",
            "/admin/ai-models",
            110,
            Permission::ModelsManage,
            "cpu",
        ),
        item(
            "system.ai-develop",
            "AI Module Development",
            "/admin/ai-modules/develop",
            120,
            Permission::ModulesDevelop,
            "code",
        ),
        item(
            "system.ai-test",
            "AI Module Testing",
            "/admin/ai-modules/test",
            130,
            Permission::ModulesTest,
            "check",
        ),
        item(
            "system.ai-review",
            "AI Module Review",
            "/admin/ai-modules/review",
            140,
            Permission::ModulesReview,
            "eye",
        ),
        item(
            "system.ai-publish",
            "AI Module Publishing",
            "/admin/ai-modules/publish",
            150,
            Permission::ModulesPublish,
            "upload",
        ),
        item(
            "system.audit",
            "Audit Log",
            "/admin/audit",
            160,
            Permission::AuditRead,
            "list",
        ),
        item(
            "system.users",
            "Users",
            "/admin/users",
            170,
            Permission::UsersManage,
            "users",
        ),
        item(
            "system.menus",
            "Menus",
            "/admin/menus",
            180,
            Permission::MenusManage,
            "menu",
        ),
    ]
}

/// What seeding did, for the start-up message.
#[derive(Debug, Default)]
pub struct SeedOutcome {
    /// Set when the admin account was created with a generated password; print it once.
    pub generated_admin_password: Option<String>,
}

fn random_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

pub async fn run(db: &Db, admin_password: Option<&str>) -> anyhow::Result<SeedOutcome> {
    store::roles::sync(db).await?;
    store::menus::seed(db, &system_menu()).await?;
    crate::http::models::service::seed_builtin(db).await?;
    let mut out = SeedOutcome::default();
    if store::users::count(db).await? > 0 {
        return Ok(out);
    }
    let (pass, generated) = match admin_password {
        Some(p) => (p.to_owned(), false),
        None => (random_password(), true),
    };
    let new = store::users::NewUser {
        username: "admin".into(),
        display_name: "Administrator".into(),
        email: None,
        password_hash: password::hash(&pass).await?,
        roles: vec![PlatformRole::Admin],
        business_roles: vec![],
    };
    let mut tx = db.begin().await?;
    match store::users::insert(&mut tx, &new).await {
        Ok(user) => {
            let mut e = store::audit::NewEntry::new("user.create", store::audit::Outcome::Success);
            e.actor = Some("system".into());
            e.resource_type = Some("user".into());
            e.resource_id = Some(user.id);
            e.details =
                serde_json::json!({ "username": "admin", "roles": ["admin"], "seed": true });
            store::audit::append(&mut tx, e).await?;
            tx.commit().await?;
            if generated {
                out.generated_admin_password = Some(pass);
            }
        }
        // Another replica seeded first.
        Err(StoreError::Conflict(_)) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(out)
}

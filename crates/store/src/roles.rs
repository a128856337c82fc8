//! Platform roles and their permissions, seeded from the `access` crate.

use crate::{Db, StoreError};
use access::PlatformRole;

/// Makes the role tables match the code's role → permission map. Runs on every start:
/// new permissions appear, and a permission the code no longer grants is withdrawn.
pub async fn sync(db: &Db) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    for role in PlatformRole::ALL {
        with_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO platform_roles (name, label) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET label = excluded.label",
        )
        .bind(role.as_str())
        .bind(role.label())
        .execute(c)
        .await?.rows_affected());
        with_tx!(&mut tx, c => sqlx::query("DELETE FROM role_permissions WHERE role = $1")
            .bind(role.as_str())
            .execute(c)
            .await?.rows_affected());
        for p in role.permissions() {
            with_tx!(&mut tx, c => sqlx::query(
                "INSERT INTO role_permissions (role, permission) VALUES ($1, $2)",
            )
            .bind(role.as_str())
            .bind(p.as_str())
            .execute(c)
            .await?.rows_affected());
        }
    }
    tx.commit().await
}

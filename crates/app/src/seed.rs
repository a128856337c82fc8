//! What a first start needs — roles and permissions, the System Management menu, the
//! built-in model, the first administrator — and demo CRM data on request. Every
//! step is idempotent, so replicas starting together cannot seed twice.

use crate::accounts::users::{self, CreateInput};
use crate::error::AppError;
use crate::{App, Caller, menus, models};
use rand::Rng;

/// What seeding did, for the start-up message.
#[derive(Debug, Default)]
pub struct SeedOutcome {
    /// Set when the admin account was created with a generated password; print it once.
    pub generated_admin_password: Option<String>,
}

/// A password a person can type: letters and digits that cannot be mistaken for
/// each other.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

pub async fn run(app: &App) -> anyhow::Result<SeedOutcome> {
    store::roles::sync(&app.db).await?;
    store::menus::seed(&app.db, &menus::system_menu()).await?;
    models::seed_builtin(app)
        .await
        .map_err(|e| anyhow::anyhow!("seeding the built-in model: {e}"))?;
    let mut out = SeedOutcome::default();
    if store::users::count(&app.db).await? > 0 {
        return Ok(out);
    }
    let (password, generated) = match &app.config.admin_password {
        Some(p) => (p.expose().to_owned(), false),
        None => (random_password(), true),
    };
    let input = CreateInput {
        username: "admin".into(),
        password: password.clone(),
        display_name: Some("Administrator".into()),
        email: None,
        roles: vec!["admin".into()],
        business_roles: Vec::new(),
    };
    match users::create(app, &Caller::system(), input).await {
        Ok(_) => {
            if generated {
                out.generated_admin_password = Some(password);
            }
        }
        // Another replica seeded first.
        Err(AppError::Conflict(_)) => {}
        Err(e) => return Err(anyhow::anyhow!("creating the first administrator: {e}")),
    }
    Ok(out)
}

const CURRENCIES: [&str; 3] = ["CNY", "USD", "EUR"];

/// Demo CRM data through the records engine: `customers` customers with
/// `orders_per_customer` orders each. Returns how many of each were created.
pub async fn demo(
    app: &App,
    customers: u64,
    orders_per_customer: u64,
) -> anyhow::Result<(u64, u64)> {
    let live = app.live.get();
    let e = runtime::Engine::new(&live.spec, &app.db);
    let actor = runtime::Actor::admin("seed");
    let tiers = ["bronze", "silver", "gold"];
    let mut orders = 0;
    for i in 0..customers {
        let data = serde_json::json!({
            "name": format!("Customer {i}"),
            "email": format!("customer{i}@demo.test"),
            "company": format!("Company {}", i % 997),
            "tier": tiers[(i % 3) as usize],
            "creditLimit": format!("{}.00", 1000 + (i % 50) * 100),
        });
        let Some(data) = data.as_object() else {
            continue;
        };
        let c = e
            .create(&actor, "Customer", data)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        for j in 0..orders_per_customer {
            let data = serde_json::json!({
                "customer": c.id,
                "amount": format!("{}.{:02}", 10 + (i * 7 + j * 13) % 5000, (i + j) % 100),
                "currency": CURRENCIES[(j % 3) as usize],
                "orderDate": format!("2026-{:02}-{:02}", 1 + (j % 12), 1 + (i % 28)),
            });
            let Some(data) = data.as_object() else {
                continue;
            };
            e.create(&actor, "Order", data)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            orders += 1;
        }
    }
    store::records::analyze(&app.db).await?;
    Ok((customers, orders))
}

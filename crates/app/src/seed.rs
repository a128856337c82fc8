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
    crate::bundles::ensure_identity(app)
        .await
        .map_err(|e| anyhow::anyhow!("creating the instance identity: {e}"))?;
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

/// Customers created per transaction by [`demo`]; their orders follow in the next ones.
const DEMO_BATCH: u64 = 500;
/// Orders created per transaction.
const DEMO_ORDER_BATCH: usize = 2_000;

/// Demo CRM data through the records engine: `customers` customers with
/// `orders_per_customer` orders each, every record validated as a create through the
/// API would be, written in batches. Returns how many of each were created.
pub async fn demo(
    app: &App,
    customers: u64,
    orders_per_customer: u64,
) -> anyhow::Result<(u64, u64)> {
    let records = crate::records::Records::open(app, &crate::Caller::system());
    let tiers = ["bronze", "silver", "gold"];
    let mut orders = 0;
    let mut from = 0;
    while from < customers {
        let to = (from + DEMO_BATCH).min(customers);
        let batch: Vec<serde_json::Map<String, serde_json::Value>> = (from..to)
            .filter_map(|i| {
                serde_json::json!({
                    "name": format!("Customer {i}"),
                    "email": format!("customer{i}@demo.test"),
                    "company": format!("Company {}", i % 997),
                    "tier": tiers[(i % 3) as usize],
                    "creditLimit": format!("{}.00", 1000 + (i % 50) * 100),
                })
                .as_object()
                .cloned()
            })
            .collect();
        let ids = created(records.create_many("Customer", &batch).await?)?;
        let mut batch = Vec::with_capacity(DEMO_ORDER_BATCH);
        for (i, id) in (from..to).zip(&ids) {
            for j in 0..orders_per_customer {
                let order = serde_json::json!({
                    "customer": id,
                    "amount": format!("{}.{:02}", 10 + (i * 7 + j * 13) % 5000, (i + j) % 100),
                    "currency": CURRENCIES[(j % 3) as usize],
                    "orderDate": format!("2026-{:02}-{:02}", 1 + (j % 12), 1 + (i % 28)),
                });
                batch.extend(order.as_object().cloned());
                if batch.len() == DEMO_ORDER_BATCH {
                    orders += created(records.create_many("Order", &batch).await?)?.len() as u64;
                    batch.clear();
                }
            }
        }
        if !batch.is_empty() {
            orders += created(records.create_many("Order", &batch).await?)?.len() as u64;
        }
        from = to;
    }
    store::records::analyze(&app.db).await?;
    Ok((customers, orders))
}

/// The ids of a batch the engine took, or its first refusal as an error (demo data
/// that fails validation is a bug of the seed or of the live spec).
fn created(
    outcome: Result<Vec<String>, Vec<crate::records::Refused>>,
) -> anyhow::Result<Vec<String>> {
    outcome.map_err(|refused| {
        anyhow::anyhow!(
            "{} demo records refused; the first: {:?}",
            refused.len(),
            refused.first()
        )
    })
}

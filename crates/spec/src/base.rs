//! The base CRM, shipped with the binary.

use crate::Spec;
use std::sync::LazyLock;

const BASE_JSON: &str = include_str!("../base/crm.json");

/// Objects of the base CRM: a patch may never remove them (docs/patch-dsl.md, `E_PROTECTED`).
pub const BASE_OBJECTS: [&str; 4] = ["Customer", "Order", "OrderTracking", "FinancialTransaction"];

static BASE: LazyLock<Spec> =
    LazyLock::new(|| crate::parse(BASE_JSON).expect("the base CRM spec parses"));

/// The base CRM spec (Customer, Order, OrderTracking, FinancialTransaction).
pub fn base_spec() -> Spec {
    BASE.clone()
}

/// The base CRM spec as shipped (JSON text).
pub fn base_spec_json() -> &'static str {
    BASE_JSON
}

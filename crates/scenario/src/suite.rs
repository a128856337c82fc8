//! The CRM suite (`crm-suite/` at the repository root), embedded so the binary can
//! run it anywhere.

use crate::format::{FormatError, Scenario, parse};

macro_rules! suite {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../../crm-suite/", $name)))),*]
    };
}

/// (file, text)
pub const FILES: &[(&str, &str)] = suite!(
    "customer.yaml",
    "order.yaml",
    "order-tracking.yaml",
    "financial-transaction.yaml",
    "permissions.yaml",
);

/// Every scenario of the CRM suite.
pub fn crm_suite() -> Result<Vec<Scenario>, FormatError> {
    let mut out = Vec::new();
    for (file, text) in FILES {
        out.extend(parse(&format!("crm-suite/{file}"), text)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_suite_file_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../crm-suite");
        for e in std::fs::read_dir(dir).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            assert!(
                FILES.iter().any(|(f, _)| *f == name),
                "crm-suite/{name} is not embedded"
            );
        }
    }
}

//! Identifier rules (docs/spec.md) and "did you mean" suggestions.

/// Fields every object has, managed by the platform and never by a patch.
pub const SYSTEM_FIELDS: [&str; 6] = [
    "id",
    "createdAt",
    "updatedAt",
    "createdBy",
    "updatedBy",
    "version",
];

/// Platform roles: a business role may never take one of these names.
pub const PLATFORM_ROLES: [&str; 4] = ["admin", "developer", "reviewer", "publisher"];

/// Longest object, field, state, transition or role name.
pub const MAX_NAME: usize = 64;
/// Longest page, menu or section id.
pub const MAX_ID: usize = 100;

pub fn is_system_field(name: &str) -> bool {
    SYSTEM_FIELDS.contains(&name)
}

/// `PascalCase`: an upper-case ASCII letter, then letters and digits.
pub fn is_pascal(name: &str) -> bool {
    let mut c = name.chars();
    name.len() <= MAX_NAME
        && c.next().is_some_and(|f| f.is_ascii_uppercase())
        && c.all(|ch| ch.is_ascii_alphanumeric())
}

/// `camelCase`: a lower-case ASCII letter, then letters and digits.
pub fn is_camel(name: &str) -> bool {
    let mut c = name.chars();
    name.len() <= MAX_NAME
        && c.next().is_some_and(|f| f.is_ascii_lowercase())
        && c.all(|ch| ch.is_ascii_alphanumeric())
}

/// Dotted lower case: `customer.list`, `crm.loyalty-points` (segments of `a-z 0-9 _ -`,
/// each starting with a letter).
pub fn is_dotted(id: &str) -> bool {
    id.len() <= MAX_ID
        && !id.is_empty()
        && id.split('.').all(|seg| {
            let mut c = seg.chars();
            c.next().is_some_and(|f| f.is_ascii_lowercase())
                && c.all(|ch| {
                    ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_' || ch == '-'
                })
        })
}

/// What an object name must look like, for messages.
pub const PASCAL_RULE: &str =
    "PascalCase (an upper-case letter, then letters and digits, at most 64)";
pub const CAMEL_RULE: &str = "camelCase (a lower-case letter, then letters and digits, at most 64)";
pub const DOTTED_RULE: &str = "dotted lower case like 'customer.list' (at most 100)";

/// The closest candidate to `name`, if one is close enough to be a likely typo.
pub fn suggest<'a, I>(name: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = name.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for cand in candidates {
        if cand == name {
            continue;
        }
        let d = if cand.to_lowercase() == lower {
            0
        } else {
            strsim::damerau_levenshtein(&lower, &cand.to_lowercase())
        };
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    let limit = (name.chars().count() / 3).clamp(1, 3);
    best.filter(|(d, _)| *d <= limit).map(|(_, c)| c.to_owned())
}

/// `" (did you mean 'X'?)"` or nothing.
pub fn did_you_mean<'a, I>(name: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    match suggest(name, candidates) {
        Some(s) => format!("; did you mean '{s}'?"),
        None => String::new(),
    }
}

/// A readable camelCase identifier from free text ("loyalty points" → `loyaltyPoints`).
pub fn camel_from_words(text: &str) -> String {
    let mut out = String::new();
    for (i, word) in text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .enumerate()
    {
        let mut chars = word.chars();
        let first = chars.next().expect("non-empty");
        if i == 0 {
            out.push_str(&word.to_ascii_lowercase());
            continue;
        } else {
            out.push(first.to_ascii_uppercase());
        }
        out.extend(chars);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_shapes() {
        assert!(is_pascal("Customer") && is_pascal("OrderTracking") && is_pascal("A1"));
        assert!(
            !is_pascal("customer")
                && !is_pascal("Order_Tracking")
                && !is_pascal("")
                && !is_pascal(&"A".repeat(65))
        );
        assert!(is_camel("loyaltyPoints") && is_camel("a"));
        assert!(!is_camel("LoyaltyPoints") && !is_camel("loyalty_points") && !is_camel("积分"));
        assert!(is_dotted("customer.list") && is_dotted("crm.loyalty-points") && is_dotted("crm"));
        assert!(
            !is_dotted("Customer.list")
                && !is_dotted("crm..x")
                && !is_dotted(".crm")
                && !is_dotted("")
        );
    }

    #[test]
    fn suggestions_catch_typos_and_case() {
        let objs = ["Customer", "Order", "OrderTracking", "FinancialTransaction"];
        assert_eq!(suggest("Custmer", objs).as_deref(), Some("Customer"));
        assert_eq!(suggest("customer", objs).as_deref(), Some("Customer"));
        assert_eq!(suggest("Ordr", objs).as_deref(), Some("Order"));
        assert_eq!(suggest("Invoice", objs), None);
        assert_eq!(did_you_mean("Custmer", objs), "; did you mean 'Customer'?");
    }

    #[test]
    fn camel_names_from_words() {
        assert_eq!(camel_from_words("loyalty points"), "loyaltyPoints");
        assert_eq!(camel_from_words("VIP level 2"), "vipLevel2");
    }
}

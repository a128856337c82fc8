//! Whether a JSON value is a valid value of a field. Used for defaults by the
//! integrity check, and by the records engine for every write.

use crate::{FieldDef, FieldType};
use rust_decimal::Decimal;
use serde_json::Value;

/// A value that breaks a rule of its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    /// The rule broken: `type`, `min`, `max`, `scale`, `minLength`, `maxLength`,
    /// `pattern`, `values`, `format`.
    pub rule: &'static str,
    pub message: String,
}

fn err(rule: &'static str, message: impl Into<String>) -> ValueError {
    ValueError {
        rule,
        message: message.into(),
    }
}

/// Reads a decimal from a JSON string or number, exactly.
pub fn decimal_of(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => Decimal::from_str_exact(s.trim())
            .ok()
            .filter(|_| !s.trim().is_empty()),
        Value::Number(n) => Decimal::from_str_exact(&n.to_string())
            .ok()
            .or_else(|| Decimal::from_scientific(&n.to_string()).ok()),
        _ => None,
    }
}

/// A constraint bound as a decimal.
pub fn bound(n: &serde_json::Number) -> Option<Decimal> {
    Decimal::from_str_exact(&n.to_string())
        .ok()
        .or_else(|| Decimal::from_scientific(&n.to_string()).ok())
}

fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && local.len() <= 64
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
                && !s.chars().any(|c| c.is_whitespace() || c == '<' || c == '>')
                && !domain.contains('@')
        }
        None => false,
    }
}

fn is_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (5..=20).contains(&digits)
        && s.chars().enumerate().all(|(i, c)| {
            c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.') || (i == 0 && c == '+')
        })
}

fn is_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !s.chars().any(char::is_whitespace)
    })
}

/// Checks `v` (not null) against `field`'s type and constraints.
pub fn check(field: &FieldDef, v: &Value) -> Result<(), ValueError> {
    match field.ty {
        FieldType::String
        | FieldType::Text
        | FieldType::Email
        | FieldType::Phone
        | FieldType::Url => {
            let Value::String(s) = v else {
                return Err(err(
                    "type",
                    format!("expected a {} (a JSON string)", field.ty),
                ));
            };
            let n = s.chars().count() as i64;
            if let Some(min) = field.min_length
                && n < min
            {
                return Err(err(
                    "minLength",
                    format!("must be at least {min} characters"),
                ));
            }
            if let Some(max) = field.max_length
                && n > max
            {
                return Err(err(
                    "maxLength",
                    format!("must be at most {max} characters"),
                ));
            }
            let format_ok = match field.ty {
                FieldType::Email => is_email(s),
                FieldType::Phone => is_phone(s),
                FieldType::Url => is_url(s),
                _ => true,
            };
            if !format_ok {
                return Err(err("format", format!("'{s}' is not a valid {}", field.ty)));
            }
            if let Some(p) = &field.pattern {
                let re = regex::Regex::new(&format!("^(?:{p})$"))
                    .map_err(|_| err("pattern", "the field's pattern is invalid"))?;
                if !re.is_match(s) {
                    return Err(err("pattern", format!("must match the pattern {p}")));
                }
            }
            Ok(())
        }
        FieldType::Integer | FieldType::Decimal => {
            let d = if field.ty == FieldType::Integer {
                match v {
                    Value::Number(n) if n.is_i64() || n.is_u64() => decimal_of(v),
                    _ => return Err(err("type", "expected a whole number")),
                }
            } else {
                decimal_of(v)
            };
            let Some(d) = d else {
                return Err(err(
                    "type",
                    "expected a decimal number (a JSON string like \"120.50\" or a number)",
                ));
            };
            if field.ty == FieldType::Decimal
                && let Some(scale) = field.scale
                && d.normalize().scale() as i64 > scale
            {
                return Err(err(
                    "scale",
                    format!("must have at most {scale} digits after the decimal point"),
                ));
            }
            if let Some(min) = field.min.as_ref().and_then(bound)
                && d < min
            {
                return Err(err("min", format!("must be at least {min}")));
            }
            if let Some(max) = field.max.as_ref().and_then(bound)
                && d > max
            {
                return Err(err("max", format!("must be at most {max}")));
            }
            Ok(())
        }
        FieldType::Boolean => match v {
            Value::Bool(_) => Ok(()),
            _ => Err(err("type", "expected true or false")),
        },
        FieldType::Date => match v {
            Value::String(s)
                if time::Date::parse(
                    s,
                    time::macros::format_description!("[year]-[month]-[day]"),
                )
                .is_ok() =>
            {
                Ok(())
            }
            _ => Err(err("type", "expected a date like 2026-11-25")),
        },
        FieldType::Datetime => match v {
            Value::String(s)
                if time::OffsetDateTime::parse(
                    s,
                    &time::format_description::well_known::Rfc3339,
                )
                .is_ok() =>
            {
                Ok(())
            }
            _ => Err(err(
                "type",
                "expected a date and time like 2026-11-25T08:30:00Z",
            )),
        },
        FieldType::Enum => {
            let values = field.values.as_deref().unwrap_or_default();
            match v {
                Value::String(s) if values.iter().any(|x| x == s) => Ok(()),
                Value::String(s) => Err(err(
                    "values",
                    format!("'{s}' is not one of {}", values.join(", ")),
                )),
                _ => Err(err(
                    "type",
                    "expected one of the listed values (a JSON string)",
                )),
            }
        }
        FieldType::Reference => match v {
            Value::String(s) if !s.is_empty() => Ok(()),
            _ => Err(err("type", "expected the id of a record (a JSON string)")),
        },
        FieldType::Json => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(ty: FieldType) -> FieldDef {
        FieldDef::of(ty)
    }

    #[test]
    fn decimals_are_exact_and_respect_scale_and_bounds() {
        let mut d = f(FieldType::Decimal);
        d.scale = Some(2);
        d.min = Some(serde_json::Number::from(0));
        assert!(check(&d, &json!("120.50")).is_ok());
        assert!(check(&d, &json!(120.5)).is_ok());
        assert!(
            check(&d, &json!("0.10")).is_ok(),
            "trailing zeros do not count against the scale"
        );
        assert_eq!(check(&d, &json!("1.005")).unwrap_err().rule, "scale");
        assert_eq!(check(&d, &json!("-1")).unwrap_err().rule, "min");
        assert_eq!(check(&d, &json!("abc")).unwrap_err().rule, "type");
        assert_eq!(check(&d, &json!(true)).unwrap_err().rule, "type");
    }

    #[test]
    fn integers_reject_fractions() {
        let mut i = f(FieldType::Integer);
        i.max = Some(10.into());
        assert!(check(&i, &json!(3)).is_ok());
        assert_eq!(check(&i, &json!(3.5)).unwrap_err().rule, "type");
        assert_eq!(check(&i, &json!("3")).unwrap_err().rule, "type");
        assert_eq!(check(&i, &json!(11)).unwrap_err().rule, "max");
    }

    #[test]
    fn text_rules() {
        let mut s = f(FieldType::String);
        s.max_length = Some(3);
        s.pattern = Some("[A-Z]+".into());
        assert!(check(&s, &json!("ABC")).is_ok());
        assert_eq!(check(&s, &json!("ABCD")).unwrap_err().rule, "maxLength");
        assert_eq!(check(&s, &json!("AbC")).unwrap_err().rule, "pattern");
        assert!(check(&f(FieldType::Email), &json!("ops@acme.test")).is_ok());
        assert_eq!(
            check(&f(FieldType::Email), &json!("ops@acme"))
                .unwrap_err()
                .rule,
            "format"
        );
        assert!(check(&f(FieldType::Phone), &json!("+86 10 1234 5678")).is_ok());
        assert!(check(&f(FieldType::Phone), &json!("call me")).is_err());
        assert!(check(&f(FieldType::Url), &json!("https://acme.test/x")).is_ok());
        assert!(check(&f(FieldType::Url), &json!("ftp://acme.test")).is_err());
        assert!(check(&f(FieldType::Date), &json!("2026-02-30")).is_err());
        assert!(check(&f(FieldType::Datetime), &json!("2026-11-25T08:30:00+08:00")).is_ok());
    }

    #[test]
    fn enums_and_references() {
        let mut e = f(FieldType::Enum);
        e.values = Some(vec!["bronze".into(), "gold".into()]);
        assert!(check(&e, &json!("gold")).is_ok());
        assert_eq!(check(&e, &json!("silver")).unwrap_err().rule, "values");
        assert!(check(&f(FieldType::Reference), &json!("abc")).is_ok());
        assert!(check(&f(FieldType::Reference), &json!(1)).is_err());
        assert!(check(&f(FieldType::Json), &json!({"any": [1]})).is_ok());
    }
}

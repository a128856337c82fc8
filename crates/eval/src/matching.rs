//! Expected operations as a partial match: an expected operation is accepted when
//! some operation of the answer holds everything it names — objects key by key,
//! arrays element by element in any order, scalars equal. What it does not name is
//! free, so a case says what matters ("a field loyaltyPoints on Customer, an
//! integer") and not how a model must phrase the rest.

use serde_json::Value;

/// Whether `actual` holds everything `expected` names.
pub fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, ev)| a.get(k).is_some_and(|av| matches(ev, av))),
        (Value::Array(e), Value::Array(a)) => e.iter().all(|ev| a.iter().any(|av| matches(ev, av))),
        // 1 and 1.0 are the same number in a patch.
        (Value::Number(e), Value::Number(a)) => e.as_f64() == a.as_f64(),
        (e, a) => e == a,
    }
}

/// Indexes of the expected operations no operation of `document` matches.
pub fn unmatched(expected: &[Value], document: &Value) -> Vec<usize> {
    let empty = Vec::new();
    let ops = document
        .get("operations")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    expected
        .iter()
        .enumerate()
        .filter(|(_, e)| !ops.iter().any(|o| matches(e, o)))
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn names_what_matters_and_leaves_the_rest_free() {
        let doc = json!({"operations": [
            {"scope": "object", "op": "add", "target": {"object": "Customer", "field": "loyaltyPoints"},
             "value": {"type": "integer", "min": 0, "label": "Loyalty points"}},
            {"scope": "permission", "op": "add", "target": {"role": "sales", "object": "Customer"}, "value": ["read", "update"]}
        ]});
        let want = [
            json!({"scope": "object", "op": "add", "target": {"field": "loyaltyPoints"}, "value": {"type": "integer"}}),
            json!({"scope": "permission", "value": ["update"]}),
            json!({"scope": "object", "op": "add", "value": {"min": 0.0}}),
        ];
        assert!(unmatched(&want, &doc).is_empty());
        let wrong = [
            json!({"scope": "object", "value": {"type": "decimal"}}),
            json!({"scope": "permission", "value": ["delete"]}),
            json!({"scope": "menu"}),
        ];
        assert_eq!(unmatched(&wrong, &doc), vec![0, 1, 2]);
        assert_eq!(unmatched(&want[..1], &json!({"title": "no ops"})), vec![0]);
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-1000i64..1000).prop_map(|n| json!(n)),
            "[a-z]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map("[a-z]{1,4}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn every_value_matches_itself(v in value()) {
            prop_assert!(matches(&v, &v));
        }

        #[test]
        fn more_in_the_answer_never_breaks_a_match(v in value(), k in "[A-Z]{1,4}", extra in value()) {
            if let Value::Object(m) = &v {
                let mut bigger = m.clone();
                bigger.insert(k, extra);
                prop_assert!(matches(&v, &Value::Object(bigger)));
            }
        }

        #[test]
        fn an_empty_object_matches_any_object(v in value()) {
            prop_assert_eq!(matches(&json!({}), &v), v.is_object());
        }
    }
}

//! Canonical JSON (RFC 8785 for what bundles hold): object keys sorted by their UTF-16
//! code units, no insignificant whitespace, strings escaped minimally. Two instances
//! that read the same document write the same bytes, whatever order the keys came in.

use serde_json::Value;

pub fn canonical(v: &Value) -> String {
    let mut out = String::new();
    write(v, &mut out);
    out
}

fn write(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                write(&m[*k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(x, out);
            }
            out.push(']');
        }
        // serde_json writes scalars compactly and escapes strings minimally.
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_and_nothing_is_padded() {
        let v = json!({"b": [1, {"z": null, "a": "x\n"}], "a": true, "é": 1, "Z": 2});
        assert_eq!(
            canonical(&v),
            r#"{"Z":2,"a":true,"b":[1,{"a":"x\n","z":null}],"é":1}"#
        );
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            ".{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((".{0,6}", inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    /// The same object with its keys in reverse order, at every depth.
    fn reversed(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .rev()
                    .map(|(k, x)| (k.clone(), reversed(x)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(reversed).collect()),
            x => x.clone(),
        }
    }

    proptest! {
        #[test]
        fn reading_the_canonical_form_gives_the_value_back(v in value()) {
            let text = canonical(&v);
            prop_assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v);
        }

        #[test]
        fn key_order_does_not_change_the_bytes(v in value()) {
            prop_assert_eq!(canonical(&v), canonical(&reversed(&v)));
        }
    }
}

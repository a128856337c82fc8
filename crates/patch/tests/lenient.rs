//! Properties of the lenient reader of model replies: strict JSON passes untouched,
//! what it fixes reads as the same value, and a document cut short is never read.

use patch::answer::lenient_json;
use proptest::prelude::*;
use serde_json::Value;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1.0e6f64..1.0e6).prop_map(Value::from),
        "[a-zA-Z0-9 '\"\\\\/{}\\[\\],:#*\u{4e00}-\u{4e0f}\u{201C}]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z_][a-zA-Z0-9_]{0,8}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn strict_json_is_left_as_it_is(v in json_value(), pretty in any::<bool>()) {
        let text = if pretty { serde_json::to_string_pretty(&v).unwrap() } else { v.to_string() };
        let (out, fixes) = lenient_json(&text).unwrap();
        prop_assert_eq!(out, text);
        prop_assert!(fixes.is_empty());
    }

    #[test]
    fn trailing_commas_and_comments_do_not_change_the_value(v in json_value()) {
        let text = serde_json::to_string_pretty(&v).unwrap();
        // A comment on every line that ends a value, a comma before every closer.
        let sloppy: String = text
            .lines()
            .map(|l| {
                let t = l.trim_end();
                if t.ends_with(['}', ']']) || t.ends_with('"') || t.ends_with(|c: char| c.is_ascii_digit()) {
                    format!("{t} // note\n")
                } else {
                    format!("{t}\n")
                }
            })
            .collect::<String>()
            .replace("\n}", ",\n}")
            .replace("\n]", ",\n]");
        if let Ok((out, _)) = lenient_json(&sloppy) {
            prop_assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), v);
        }
    }

    #[test]
    fn a_document_cut_short_is_never_read(v in json_value(), cut in 1usize..64) {
        let text = v.to_string();
        prop_assume!(text.starts_with('{') || text.starts_with('['));
        prop_assume!(text.len() > 2);
        let mut end = text.len().saturating_sub(cut).max(1);
        while !text.is_char_boundary(end) { end -= 1; }
        let short = &text[..end];
        prop_assert!(lenient_json(short).is_err(), "{short}");
    }
}

//! The stored-text view writes the same document as the parsed view, for any stored
//! values: declared, hidden, missing, escaped, nested.

use proptest::prelude::*;
use runtime::{Record, StoredRecord};
use serde_json::{Map, Value, json};
use spec::base_spec;

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-zA-Z0-9 \"\\\\\n\u{4e00}-\u{4e0f}é]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,4}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    // Declared fields of Customer and Order, the state field, hidden and odd keys.
    prop_oneof![
        prop::sample::select(vec![
            "name",
            "email",
            "tier",
            "creditLimit",
            "notes",
            "status",
            "customer",
            "amount",
            "loyaltyPoints",
            "id",
            "version",
        ])
        .prop_map(str::to_owned),
        "[a-z\"\\\\\u{4e00}]{1,5}",
    ]
}

proptest! {
    #[test]
    fn stored_text_view_equals_parsed_view(
        object in prop::sample::select(vec!["Customer", "Order", "FinancialTransaction"]),
        data in prop::collection::vec((key(), value()), 0..8),
        id in "[a-z0-9\"\\\\\n\u{1}\u{7f}é-]{1,12}",
        version in 1i64..1000,
        at in 0i64..4_000_000_000_000,
        by in prop::option::of("[a-z\"\\\\\t\u{4e00}]{1,6}"),
    ) {
        let spec = base_spec();
        let def = &spec.objects[object];
        let record = Record {
            id,
            object: object.to_owned(),
            data: data.into_iter().collect::<Map<String, Value>>(),
            version,
            created_at: at,
            updated_at: at + 1,
            created_by: by.clone(),
            updated_by: None,
        };
        let stored = StoredRecord::from(&record);
        prop_assert_eq!(stored.view_json(def).unwrap(), record.view(def).to_string());
        prop_assert_eq!(stored.parse().unwrap(), record);
    }
}

#[test]
fn text_that_is_not_an_object_has_no_view() {
    let spec = base_spec();
    let mut stored = StoredRecord::from(&Record {
        id: "a".into(),
        object: "Customer".into(),
        data: Map::new(),
        version: 1,
        created_at: 0,
        updated_at: 0,
        created_by: None,
        updated_by: None,
    });
    for bad in ["[1]", "{", "nope", ""] {
        stored.data = bad.into();
        assert!(
            stored.view_json(&spec.objects["Customer"]).is_none(),
            "{bad}"
        );
        assert!(stored.clone().parse().is_none(), "{bad}");
    }
}

/// What `time` writes for unix milliseconds as RFC 3339 (empty when it cannot).
fn by_time(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn system_times_are_written_as_time_writes_them(
        ms in prop_oneof![
            -100_000_000_000_000i64..300_000_000_000_000,
            // Around the edges of the years a view can show.
            -62_167_219_200_000i64 - 5_000..-62_167_219_200_000 + 5_000,
            253_402_300_799_000i64 - 5_000..253_402_300_799_000 + 5_000,
            0i64..86_400_000,
        ]
    ) {
        prop_assert_eq!(runtime::rfc3339(ms), by_time(ms));
    }
}

#[test]
fn whole_seconds_and_trailing_zeros_match_time() {
    for ms in [
        0,
        1,
        10,
        100,
        120,
        999,
        1_000,
        1_700_000_000_000,
        1_700_000_000_500,
        -1,
        -1_000,
    ] {
        assert_eq!(runtime::rfc3339(ms), by_time(ms), "{ms}");
    }
}

use serde_json::{Value, json};
use spec::{Code, PageDef, base_spec, check, parse, record_schema};

fn codes_at(spec_json: Value) -> Vec<(Code, String)> {
    let s = spec::from_value(&spec_json).expect("parses");
    check(&s).into_iter().map(|v| (v.code, v.path)).collect()
}

fn base_json() -> Value {
    serde_json::from_str(spec::base_spec_json()).unwrap()
}

#[test]
fn the_base_crm_passes_its_own_integrity_check() {
    let s = base_spec();
    assert_eq!(check(&s), vec![]);
    assert_eq!(s.objects.len(), 4);
    for o in spec::BASE_OBJECTS {
        assert!(s.objects.contains_key(o));
        for kind in ["list", "form", "detail"] {
            assert!(
                s.pages
                    .values()
                    .any(|p| p.object() == o && p.kind() == kind),
                "{o} has a {kind} page"
            );
        }
    }
    assert!(s.objects["FinancialTransaction"].immutable);
    for r in ["sales", "finance", "support"] {
        assert!(s.roles.contains_key(r));
    }
}

#[test]
fn round_trips_through_json_unchanged() {
    let s = base_spec();
    let again = parse(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(s, again);
}

#[test]
fn unknown_keys_are_rejected_naming_key_and_place() {
    let mut j = base_json();
    j["objects"]["Customer"]["fields"]["name"]["maxLenght"] = json!(5);
    let e = spec::from_value(&j).unwrap_err();
    assert!(e.message.contains("maxLenght"), "{e}");
    assert_eq!(e.path, "/objects/Customer/fields/name/maxLenght");
    let e = parse(r#"{"objects":{},"extra":1}"#).unwrap_err();
    assert!(e.message.contains("extra"), "{e}");
    let e =
        parse(r#"{"objects":{"A":{"label":"A","fields":{"x":{"type":"money"}}}}}"#).unwrap_err();
    assert!(e.message.contains("money"), "{e}");
}

#[test]
fn names_references_and_constraints_are_checked() {
    let j = json!({
        "objects": {
            "customer": { "label": "x" },
            "Thing": { "label": "Thing", "fields": {
                "createdAt": { "type": "string" },
                "Bad_Name": { "type": "string" },
                "n": { "type": "integer", "min": 5, "max": 1, "maxLength": 3 },
                "d": { "type": "decimal", "scale": -1 },
                "p": { "type": "string", "pattern": "(" },
                "e": { "type": "enum", "values": ["a", "a"], "default": "b" },
                "r": { "type": "reference", "object": "Custmer", "required": true, "onDelete": "setNull" },
                "l": { "type": "string", "minLength": 5, "maxLength": 2 },
                "b": { "type": "boolean", "unique": true },
                "i": { "type": "integer", "default": 1.5 }
            },
            "stateFlow": { "field": "status", "initial": "nwe", "states": { "new": {}, "done": { "final": true } },
                "transitions": { "finish": { "from": ["new"], "to": "dne" }, "reopen": { "from": ["done"], "to": "new" } } } }
        },
        "pages": {
            "thing.list": { "type": "list", "object": "Thing", "columns": ["n", "nn", "n"] },
            "Thing.Form": { "type": "form", "object": "Thing", "sections": [ { "id": "main", "fields": ["id"] } ] },
            "ghost.list": { "type": "list", "object": "Ghost", "columns": ["x"] }
        },
        "roles": {
            "admin": { "label": "Admin", "grants": {} },
            "ops": { "label": "Ops", "grants": { "Thing": ["read", "read", "transition:fly"], "Nope": ["read"] } }
        },
        "menus": [ { "id": "m", "label": "M", "page": "missing.page", "children": [ { "id": "m", "label": "Again" } ] } ]
    });
    let found = codes_at(j);
    let expect = [
        (Code::InvalidName, "/objects/customer"),
        (Code::SystemField, "/objects/Thing/fields/createdAt"),
        (Code::InvalidName, "/objects/Thing/fields/Bad_Name"),
        (Code::FieldType, "/objects/Thing/fields/n/maxLength"),
        (Code::FieldType, "/objects/Thing/fields/n/min"),
        (Code::FieldType, "/objects/Thing/fields/d/scale"),
        (Code::FieldType, "/objects/Thing/fields/p/pattern"),
        (Code::FieldType, "/objects/Thing/fields/e/values/1"),
        (Code::FieldType, "/objects/Thing/fields/e/default"),
        (Code::Reference, "/objects/Thing/fields/r/object"),
        (Code::FieldType, "/objects/Thing/fields/r/onDelete"),
        (Code::FieldType, "/objects/Thing/fields/l/minLength"),
        (Code::FieldType, "/objects/Thing/fields/b/unique"),
        (Code::FieldType, "/objects/Thing/fields/i/default"),
        (Code::Reference, "/objects/Thing/stateFlow/initial"),
        (
            Code::Reference,
            "/objects/Thing/stateFlow/transitions/finish/to",
        ),
        (
            Code::Reference,
            "/objects/Thing/stateFlow/transitions/reopen/from/0",
        ),
        (Code::Reference, "/pages/thing.list/columns/1"),
        (Code::AlreadyExists, "/pages/thing.list/columns/2"),
        (Code::InvalidName, "/pages/Thing.Form"),
        (Code::SystemField, "/pages/Thing.Form/sections/0/fields/0"),
        (Code::Reference, "/pages/ghost.list/object"),
        (Code::PermissionEscalation, "/roles/admin"),
        (Code::AlreadyExists, "/roles/ops/grants/Thing/1"),
        (Code::Reference, "/roles/ops/grants/Thing/2"),
        (Code::Reference, "/roles/ops/grants/Nope"),
        (Code::Reference, "/menus/0/page"),
        (Code::AlreadyExists, "/menus/0/children/0/id"),
    ];
    for (code, path) in expect {
        assert!(
            found.contains(&(code, path.to_owned())),
            "expected {code} at {path}; found {found:#?}"
        );
    }
}

#[test]
fn messages_suggest_near_names() {
    let mut j = base_json();
    j["pages"]["customer.list"]["object"] = json!("Custmer");
    let s = spec::from_value(&j).unwrap();
    let v = check(&s);
    assert!(
        v.iter()
            .any(|v| v.message.contains("did you mean 'Customer'?")),
        "{v:#?}"
    );
}

#[test]
fn record_schemas_accept_good_records_and_reject_bad_ones() {
    let s = base_spec();
    let schema = record_schema(&s, "Order").unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let good = json!({
        "id": "o1", "createdAt": "2026-11-25T08:00:00Z", "updatedAt": "2026-11-25T08:00:00Z",
        "createdBy": "u1", "updatedBy": null, "version": 1,
        "customer": "c1", "amount": "120.50", "currency": "CNY", "status": "draft",
        "number": null, "orderDate": null, "shippingAddress": null, "notes": null
    });
    assert!(
        validator.is_valid(&good),
        "{:?}",
        validator
            .iter_errors(&good)
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    );
    for (field, bad) in [
        ("amount", json!(120.5)),
        ("amount", json!("1.234")),
        ("status", json!("lost")),
        ("currency", json!("GBP")),
        ("version", json!(0)),
    ] {
        let mut r = good.clone();
        r[field] = bad;
        assert!(!validator.is_valid(&r), "{field} = {}", r[field]);
    }
    let mut extra = good.clone();
    extra["hidden"] = json!(1);
    assert!(!validator.is_valid(&extra));
    let mut missing = good;
    missing.as_object_mut().unwrap().remove("customer");
    assert!(!validator.is_valid(&missing));
    assert!(record_schema(&s, "Nope").is_none());
}

#[test]
fn the_spec_json_schema_accepts_the_base_spec() {
    let schema = spec::spec_json_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let base = base_json();
    assert!(
        validator.is_valid(&base),
        "{:?}",
        validator
            .iter_errors(&base)
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    );
    assert!(!validator.is_valid(&json!({ "objects": { "A": { "label": "A", "bogus": 1 } } })));
}

#[test]
fn records_are_known_by_their_title_field() {
    let base = base_spec();
    let title = |o: &str| base.objects[o].title_field().map(str::to_owned);
    assert_eq!(title("Customer").as_deref(), Some("name"));
    assert_eq!(title("Order").as_deref(), Some("number"));
    assert_eq!(title("FinancialTransaction").as_deref(), Some("reference"));
    assert_eq!(title("OrderTracking").as_deref(), Some("trackingNumber"));
    // Without one, the first required string field names a record.
    let mut c = base.objects["Customer"].clone();
    c.title_field = None;
    assert_eq!(c.title_field(), Some("name"));
    c.fields.retain(|n, _| n != "name");
    assert_eq!(c.title_field(), None);

    let mut j = base_json();
    j["objects"]["Customer"]["titleField"] = json!("nickname");
    assert!(codes_at(j).contains(&(Code::UnknownField, "/objects/Customer/titleField".into())));
    let mut j = base_json();
    j["objects"]["Order"]["titleField"] = json!("amount");
    assert!(codes_at(j).contains(&(Code::FieldType, "/objects/Order/titleField".into())));
}

#[test]
fn the_base_crm_speaks_chinese_everywhere() {
    let base = base_spec();
    let zh = |labels: &spec::Labels| labels.contains_key("zh-CN");
    for (name, o) in &base.objects {
        assert!(zh(&o.labels), "{name}");
        for (f, d) in &o.fields {
            assert!(zh(&d.labels), "{name}.{f}");
            for v in d.values.iter().flatten() {
                assert!(d.value_labels.get(v).is_some_and(zh), "{name}.{f}={v}");
            }
        }
        if let Some(flow) = &o.state_flow {
            assert!(flow.states.values().all(|s| zh(&s.labels)), "{name}");
            assert!(flow.transitions.values().all(|t| zh(&t.labels)), "{name}");
        }
    }
    for (id, p) in &base.pages {
        match p {
            PageDef::List(l) => assert!(zh(&l.labels), "{id}"),
            PageDef::Form(s) | PageDef::Detail(s) => {
                assert!(zh(&s.labels), "{id}");
                assert!(s.sections.iter().all(|s| zh(&s.labels)), "{id}");
            }
        }
    }
    assert!(base.roles.values().all(|r| zh(&r.labels)));
    fn menus(ns: &[spec::MenuNode]) -> bool {
        ns.iter()
            .all(|n| n.labels.contains_key("zh-CN") && menus(&n.children))
    }
    assert!(menus(&base.menus));
}

#[test]
fn a_label_falls_back_from_tag_to_language_to_the_plain_label() {
    let labels: spec::Labels = [("zh-CN".to_owned(), "客户".to_owned())].into();
    assert_eq!(spec::localized("Customer", &labels, "zh-CN"), "客户");
    assert_eq!(spec::localized("Customer", &labels, "zh"), "客户");
    assert_eq!(spec::localized("Customer", &labels, "zh-TW"), "客户");
    assert_eq!(spec::localized("Customer", &labels, "en"), "Customer");
    assert_eq!(
        spec::localized("Customer", &spec::Labels::new(), "zh-CN"),
        "Customer"
    );
}

#[test]
fn the_base_crm_numbers_orders_and_transactions() {
    let base = base_spec();
    let n = |o: &str, f: &str| base.objects[o].fields[f].auto_number.clone().unwrap();
    assert_eq!(n("Order", "number").format(1), "SO-000001");
    assert_eq!(
        n("FinancialTransaction", "reference").format(42),
        "FT-000042"
    );
    // Past its digits a number just grows.
    assert_eq!(n("Order", "number").format(1_234_567), "SO-1234567");
    let mut j = base_json();
    j["objects"]["Order"]["fields"]["number"]["default"] = json!("SO-1");
    assert!(codes_at(j).contains(&(
        Code::FieldType,
        "/objects/Order/fields/number/default".into()
    )));
    let mut j = base_json();
    j["objects"]["Order"]["fields"]["number"]["autoNumber"]["digits"] = json!(0);
    assert!(codes_at(j).contains(&(
        Code::FieldType,
        "/objects/Order/fields/number/autoNumber/digits".into()
    )));
}

proptest::proptest! {
    #[test]
    fn numbers_keep_their_order_and_read_back(a in 0i64..10_000_000, b in 0i64..10_000_000, digits in 1u8..12) {
        let n = spec::AutoNumber { prefix: "SO-".into(), digits };
        let (x, y) = (n.format(a), n.format(b));
        proptest::prop_assert_eq!(x.strip_prefix("SO-").unwrap().parse::<i64>().unwrap(), a);
        // Within the padded width, text order is number order (lists sort by text).
        if x.len() == y.len() {
            proptest::prop_assert_eq!(x.cmp(&y), a.cmp(&b));
        }
    }
}

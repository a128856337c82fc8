//! The example patches in `examples/patches/` do what their names say.

use patch::Level;
use spec::base_spec;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/patches")
}

fn check(name: &str) -> patch::Validation {
    let bytes = std::fs::read(dir().join(name)).unwrap();
    patch::check(&base_spec(), &bytes)
}

#[test]
fn valid_examples_validate_at_their_level() {
    let expect = [
        ("object-loyalty-points.json", Level::L1),
        ("object-new-campaign.json", Level::L2),
        ("state-order-on-hold.json", Level::L2),
        ("page-reorder.json", Level::L1),
        ("permission-auditor.json", Level::L2),
        ("menu-reorganise.json", Level::L1),
    ];
    let mut seen = 0;
    for entry in std::fs::read_dir(dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            seen += 1;
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let (_, level) = expect
                .iter()
                .find(|(n, _)| *n == name)
                .unwrap_or_else(|| panic!("{name} has no expectation here"));
            let v = check(&name);
            assert!(v.report.valid, "{name}: {:#?}", v.report.errors);
            assert_eq!(v.report.level, *level, "{name}");
            assert!(spec::check(v.spec.as_ref().unwrap()).is_empty());
        }
    }
    assert_eq!(seen, expect.len());
}

#[test]
fn invalid_examples_fail_with_their_code() {
    let expect = [
        ("system-field.json", "E_SYSTEM_FIELD", Level::L3),
        ("escalation.json", "E_PERMISSION_ESCALATION", Level::L3),
        ("protected.json", "E_PROTECTED", Level::L3),
        ("type-change.json", "E_TYPE_CHANGE", Level::L3),
        ("unknown-object.json", "E_UNKNOWN_OBJECT", Level::L1),
        ("dangling-reference.json", "E_REFERENCE", Level::L2),
    ];
    for (name, code, level) in expect {
        let v = check(&format!("invalid/{name}"));
        assert!(!v.report.valid, "{name}");
        assert_eq!(
            v.report.errors[0].code, code,
            "{name}: {:#?}",
            v.report.errors
        );
        assert_eq!(v.report.level, level, "{name}");
    }
}

#[test]
fn the_menu_example_moves_and_reorders() {
    let s = check("menu-reorganise.json").spec.unwrap();
    assert_eq!(
        s.menu_parent("crm.transactions").as_deref(),
        Some("finance")
    );
    let crm: Vec<_> = s
        .find_menu("crm")
        .unwrap()
        .children
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(crm, ["crm.orders", "crm.customers", "crm.tracking"]);
}

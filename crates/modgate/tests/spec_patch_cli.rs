//! `modgate spec …` and `modgate patch …`: the contract scripts and CI rely on.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/patches")
}

fn modgate(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_modgate"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(b) = stdin {
        input.write_all(b).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn ex(name: &str) -> String {
    examples().join(name).to_str().unwrap().to_owned()
}

#[test]
fn spec_show_prints_the_base_crm_which_checks_clean() {
    let out = modgate(&["spec", "show"], None);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["objects"]["FinancialTransaction"]["immutable"]
            .as_bool()
            .unwrap()
    );
    let check = modgate(&["spec", "check", "-"], Some(&out.stdout));
    assert_eq!(check.status.code(), Some(0));
    assert!(check.stdout.is_empty());
}

#[test]
fn spec_check_reports_violations_with_exit_1() {
    let broken =
        br#"{"objects":{"A":{"label":"A","fields":{"r":{"type":"reference","object":"Bee"}}}}}"#;
    let out = modgate(&["spec", "check", "-"], Some(broken));
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("E_REFERENCE /objects/A/fields/r/object"),
        "{text}"
    );
    let out = modgate(&["spec", "check", "/no/such/file.json"], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn patch_validate_exit_codes_and_exact_json() {
    let out = modgate(
        &["patch", "validate", &ex("object-loyalty-points.json")],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("VALID  level L1"));

    let out = modgate(
        &[
            "patch",
            "validate",
            &ex("permission-auditor.json"),
            "--json",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "L2 is valid");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["level"], "L2");
    let keys: Vec<&String> = report.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["valid", "level", "errors", "warnings", "operations"],
        "the documented order"
    );

    let out = modgate(
        &[
            "patch",
            "validate",
            &ex("invalid/system-field.json"),
            "--json",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["errors"][0]["code"], "E_SYSTEM_FIELD");

    let bytes = std::fs::read(examples().join("invalid/unknown-object.json")).unwrap();
    let out = modgate(&["patch", "validate", "-"], Some(&bytes));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("did you mean 'Customer'?"));

    assert_eq!(
        modgate(&["patch", "validate", "/no/such.json"], None)
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        modgate(&["patch", "validate"], None).status.code(),
        Some(2),
        "missing argument"
    );
    assert_eq!(
        modgate(
            &[
                "patch",
                "validate",
                &ex("page-reorder.json"),
                "--spec",
                "/no/spec.json"
            ],
            None
        )
        .status
        .code(),
        Some(2)
    );
}

#[test]
fn patch_validate_against_another_spec() {
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("tiny.json");
    std::fs::write(
        &spec_path,
        r#"{"objects":{"Ticket":{"label":"Ticket","fields":{"title":{"type":"string"}}}}}"#,
    )
    .unwrap();
    let patch = br#"{"dsl":"modgate.patch/v1","title":"t","operations":[
        {"scope":"object","op":"add","target":{"object":"Ticket","field":"priority"},"value":{"type":"integer"}}]}"#;
    let out = modgate(
        &[
            "patch",
            "validate",
            "-",
            "--spec",
            spec_path.to_str().unwrap(),
        ],
        Some(patch),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = modgate(&["patch", "validate", "-"], Some(patch));
    assert_eq!(out.status.code(), Some(1), "no Ticket in the base CRM");
}

#[test]
fn patch_apply_prints_the_spec_or_the_diff_and_nothing_when_invalid() {
    let out = modgate(&["patch", "apply", &ex("state-order-on-hold.json")], None);
    assert_eq!(out.status.code(), Some(0));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(s["objects"]["Order"]["stateFlow"]["states"]["onHold"].is_object());
    let out = modgate(
        &["patch", "apply", &ex("state-order-on-hold.json"), "--diff"],
        None,
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("+          \"onHold\": {"));
    let out = modgate(&["patch", "apply", &ex("invalid/escalation.json")], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let report: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(report["errors"][0]["code"], "E_PERMISSION_ESCALATION");
}

#[test]
fn patch_schema_is_json_schema() {
    let out = modgate(&["patch", "schema"], None);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["$schema"].as_str().unwrap().contains("json-schema.org"));
    assert!(v["properties"]["operations"].is_object());
}

#[test]
fn test_run_reports_the_crm_suite_and_the_gate() {
    let out = modgate(&["test", "run"], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ready to submit: yes"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let patch = dir.path().join("lax.json");
    std::fs::write(
        &patch,
        r#"{"dsl":"modgate.patch/v1","title":"Lax emails","operations":[
            {"scope":"object","op":"update","target":{"object":"Customer","field":"email"},"value":{"unique":false}}]}"#,
    )
    .unwrap();
    let junit = dir.path().join("junit.xml");
    let out = modgate(
        &[
            "test",
            "run",
            "--patch",
            patch.to_str().unwrap(),
            "--json",
            "--junit",
            junit.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["failed"].as_u64().unwrap() >= 1);
    assert_eq!(v["gate"]["ready"], false);
    assert!(
        v["coverage"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "constraint")
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<failure") && xml.contains("customer email must be an email and unique"));

    let out = modgate(&["test", "run", "--patch", "/nonexistent.json"], None);
    assert_eq!(out.status.code(), Some(2));
}

//! The CRM suite on the base spec, and modules that leave things uncovered or break
//! the base CRM.

use serde_json::json;

fn doc(v: serde_json::Value) -> patch::PatchDocument {
    patch::parse(v.to_string().as_bytes()).unwrap()
}

async fn report(patch: Option<&patch::PatchDocument>) -> scenario::Report {
    let suite = scenario::crm_suite().unwrap();
    scenario::run_suite(&spec::base_spec(), patch, suite, 0.8)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_crm_suite_passes_on_the_base_spec() {
    let suite = scenario::crm_suite().unwrap();
    assert!(suite.len() >= 40, "{} scenarios", suite.len());
    let r = report(None).await;
    let failures: Vec<String> = r
        .scenarios
        .iter()
        .filter(|s| s.status != "passed")
        .map(|s| {
            format!(
                "{} [{}]: {}",
                s.name,
                s.source,
                s.error.clone().unwrap_or_default()
            )
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(r.failed, 0);
    assert_eq!(r.coverage.module, None);
    assert!(r.gate.ready, "{:?}", r.gate.reasons);
    let uncovered: Vec<String> = r
        .coverage
        .items
        .iter()
        .filter(|i| !i.covered)
        .map(|i| format!("{} {}", i.kind, i.id))
        .collect();
    assert!(
        r.coverage.spec > 0.85,
        "spec coverage {:.2}; uncovered: {}",
        r.coverage.spec,
        uncovered.join(", ")
    );
    let xml = r.junit();
    assert_eq!(xml.matches("<testcase").count(), r.scenarios.len());
}

#[tokio::test]
async fn a_field_without_scenarios_is_uncovered_and_fails_the_gate() {
    let p = doc(
        json!({ "dsl": "modgate.patch/v1", "title": "Loyalty", "operations": [
        { "scope": "object", "op": "add", "target": { "object": "Customer", "field": "loyaltyPoints" },
          "value": { "type": "integer", "label": "Loyalty points", "min": 0 } } ] }),
    );
    let r = report(Some(&p)).await;
    assert_eq!(r.failed, 0);
    let m = r.coverage.module.unwrap();
    assert!(m < 0.8, "{m}");
    assert!(!r.gate.ready);
    let reason = r.gate.reasons.join(" ");
    assert!(
        reason.contains("field Customer.loyaltyPoints.write"),
        "{reason}"
    );
    let item = r
        .coverage
        .items
        .iter()
        .find(|i| i.id == "Customer.loyaltyPoints.min.fail")
        .unwrap();
    assert!(item.module && !item.covered);

    // With scenarios for it in the patch's tests, the gate opens.
    let mut with_tests = p.clone();
    with_tests.tests = vec![
        json!({ "name": "loyalty points", "object": "Customer", "steps": [
        { "create": "Customer", "as": "c", "data": { "name": "Acme", "loyaltyPoints": 10 }, "expect": { "loyaltyPoints": 10 } },
        { "read": "c", "expect": { "loyaltyPoints": 10 } },
        { "update": { "record": "c", "data": { "loyaltyPoints": -1 } }, "expect_error": { "code": "validation", "field": "loyaltyPoints", "rule": "min" } }
    ] }),
    ];
    let r = report(Some(&with_tests)).await;
    assert!(r.gate.ready, "{:?}", r.gate.reasons);
    assert!(
        r.scenarios
            .iter()
            .any(|s| s.source == "module" && s.status == "passed")
    );
}

#[tokio::test]
async fn a_module_that_breaks_a_base_rule_fails_the_suite_readably() {
    let p = doc(
        json!({ "dsl": "modgate.patch/v1", "title": "Lax emails", "operations": [
        { "scope": "object", "op": "update", "target": { "object": "Customer", "field": "email" }, "value": { "unique": false } } ] }),
    );
    let r = report(Some(&p)).await;
    assert!(r.failed >= 1);
    let s = r
        .scenarios
        .iter()
        .find(|s| s.name == "customer email must be an email and unique")
        .unwrap();
    assert_eq!(s.status, "failed");
    let e = s.error.as_deref().unwrap();
    assert!(
        e.contains("step 3") && e.contains("expected error validation on email (unique)"),
        "{e}"
    );
    assert!(!r.gate.ready);
}

#[tokio::test]
async fn malformed_module_tests_are_refused_naming_the_step() {
    let mut p = doc(json!({ "dsl": "modgate.patch/v1", "title": "t", "operations": [] }));
    p.tests = vec![
        json!({ "name": "broken", "object": "Customer", "steps": [ { "create": "Customer" }, { "explode": true } ] }),
    ];
    let e = scenario::run_suite(&spec::base_spec(), Some(&p), vec![], 0.8)
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("broken") && text.contains("step 2"), "{text}");
}

#[tokio::test]
async fn the_offline_engine_writes_a_passing_scenario_for_what_it_adds() {
    let base = spec::base_spec();
    for request in [
        "add an integer field loyaltyPoints to Customer with min 0",
        "add a decimal field discount to Order between 0 and 100",
        "add a date field eta to OrderTracking",
        "add an enum field channel to FinancialTransaction with values bank, card",
        "add an object Campaign with fields name (string, required), budget (decimal), startsOn (date)",
        "给客户添加一个整数字段 积分，默认值 0",
    ] {
        let doc = offline::respond(&base, None, request).unwrap();
        assert_eq!(doc.tests.len(), 1, "{request}");
        let r = report(Some(&doc)).await;
        let own: Vec<_> = r
            .scenarios
            .iter()
            .filter(|s| s.source == "module")
            .collect();
        assert_eq!(own.len(), 1);
        assert_eq!(own[0].status, "passed", "{request}: {:?}", own[0].error);
        assert_eq!(r.failed, 0, "{request}");
    }
    let doc = offline::respond(
        &base,
        None,
        "add an integer field loyaltyPoints to Customer",
    )
    .unwrap();
    let r = report(Some(&doc)).await;
    let write = r
        .coverage
        .items
        .iter()
        .find(|i| i.id == "Customer.loyaltyPoints.write")
        .unwrap();
    assert!(write.covered && write.by.iter().any(|b| b.contains("loyaltyPoints")));
}

//! The live spec = base + published patches in publish order.

use spec::base_spec;

fn doc(json: serde_json::Value) -> patch::PatchDocument {
    patch::parse(json.to_string().as_bytes()).unwrap()
}

#[test]
fn patches_apply_in_publish_order() {
    let campaign = doc(
        serde_json::json!({ "dsl": "modgate.patch/v1", "title": "campaigns", "operations": [
        { "scope": "object", "op": "add", "target": { "object": "Campaign" }, "value": { "label": "Campaign", "fields": { "name": { "type": "string" } } } } ] }),
    );
    let budget = doc(
        serde_json::json!({ "dsl": "modgate.patch/v1", "title": "budget", "operations": [
        { "scope": "object", "op": "add", "target": { "object": "Campaign", "field": "budget" }, "value": { "type": "decimal", "scale": 2 } } ] }),
    );
    let live = patch::compose(&base_spec(), [&campaign, &budget]).unwrap();
    assert!(live.objects["Campaign"].fields.contains_key("budget"));
    assert_eq!(patch::compose(&base_spec(), []).unwrap(), base_spec());

    // Out of order, the second depends on the first and fails, naming itself.
    let err = patch::compose(&base_spec(), [&budget, &campaign]).unwrap_err();
    assert_eq!(err.index, 0);
    assert_eq!(err.title, "budget");
    assert!(err.report.has(patch::Code::UnknownObject));
    assert!(err.to_string().contains("E_UNKNOWN_OBJECT"));
}

#[test]
fn composition_refuses_a_removal_another_module_depends_on() {
    let campaign = doc(
        serde_json::json!({ "dsl": "modgate.patch/v1", "title": "campaigns", "operations": [
        { "scope": "object", "op": "add", "target": { "object": "Campaign" }, "value": { "label": "Campaign", "fields": { "customer": { "type": "reference", "object": "Customer" } } } } ] }),
    );
    let tier_page = doc(
        serde_json::json!({ "dsl": "modgate.patch/v1", "title": "campaign page", "operations": [
        { "scope": "page", "op": "add", "target": { "page": "campaign.list" }, "value": { "type": "list", "object": "Campaign", "columns": ["customer"] } } ] }),
    );
    let drop_campaign = doc(
        serde_json::json!({ "dsl": "modgate.patch/v1", "title": "drop", "operations": [
        { "scope": "object", "op": "remove", "target": { "object": "Campaign" } } ] }),
    );
    let err = patch::compose(&base_spec(), [&campaign, &tier_page, &drop_campaign]).unwrap_err();
    assert_eq!(err.index, 2);
    assert!(
        err.report.has(patch::Code::Reference),
        "{:#?}",
        err.report.errors
    );
}

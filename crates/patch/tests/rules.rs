//! Every rule, error code and level boundary of docs/patch-dsl.md, on the base CRM.

use patch::{Code, Level, Validation};
use serde_json::{Value, json};
use spec::base_spec;

fn run(ops: Value) -> Validation {
    let doc = json!({ "dsl": "modgate.patch/v1", "title": "t", "operations": ops });
    patch::check(&base_spec(), doc.to_string().as_bytes())
}

fn one(op: Value) -> Validation {
    run(json!([op]))
}

/// Asserts the patch fails with `code` at `path` with `level`; returns the message.
fn fails(v: &Validation, code: Code, path: &str, level: Level) -> String {
    assert!(
        !v.report.valid,
        "expected {code}, but the patch is valid: {:#?}",
        v.report
    );
    assert!(v.spec.is_none(), "an invalid patch yields no spec");
    let e = v
        .report
        .errors
        .iter()
        .find(|e| e.code == code.as_str())
        .unwrap_or_else(|| panic!("no {code} in {:#?}", v.report.errors));
    assert_eq!(e.path, path, "{e:?}");
    assert_eq!(e.level, level, "{e:?}");
    assert!(v.report.level >= level);
    e.message.clone()
}

fn ok(v: &Validation, level: Level) {
    assert!(v.report.valid, "expected valid, got {:#?}", v.report.errors);
    assert_eq!(v.report.level, level, "{:#?}", v.report.operations);
    assert!(v.spec.is_some());
}

fn add_field(obj: &str, field: &str, def: Value) -> Value {
    json!({ "scope": "object", "op": "add", "target": { "object": obj, "field": field }, "value": def })
}

// ---------- document level ----------

#[test]
fn e_schema_for_shape_errors_with_paths() {
    let v = patch::check(&base_spec(), b"{not json");
    assert_eq!(v.report.errors[0].code, "E_SCHEMA");
    let v = patch::check(&base_spec(), br#"{"dsl":"modgate.patch/v1","title":"t","operations":[{"scope":"object","op":"explode","target":{"object":"A"}}]}"#);
    fails(&v, Code::Schema, "/operations/0/op", Level::L1);
    let v = patch::check(
        &base_spec(),
        br#"{"dsl":"modgate.patch/v1","title":"t","operations":[],"extra":1}"#,
    );
    let m = fails(&v, Code::Schema, "/extra", Level::L1);
    assert!(m.contains("extra"));
    let v = patch::check(
        &base_spec(),
        br#"{"dsl":"modgate.patch/v1","title":"","operations":[]}"#,
    );
    fails(&v, Code::Schema, "/title", Level::L1);
    let v = one(
        json!({ "scope": "object", "op": "add", "target": { "object": "Customer", "field": "x", "page": "p" }, "value": {"type": "string"} }),
    );
    fails(&v, Code::Schema, "/operations/0/target", Level::L1);
    let v = one(add_field(
        "Customer",
        "x",
        json!({ "type": "string", "maxLen": 3 }),
    ));
    let m = fails(&v, Code::Schema, "/operations/0/value/maxLen", Level::L1);
    assert!(m.contains("maxLen"));
    let v = one(
        json!({ "scope": "object", "op": "add", "target": { "object": "Customer", "field": "x" } }),
    );
    fails(&v, Code::Schema, "/operations/0/value", Level::L1);
}

#[test]
fn e_dsl_version() {
    let v = patch::check(
        &base_spec(),
        br#"{"dsl":"modgate.patch/v2","title":"t","operations":[]}"#,
    );
    fails(&v, Code::DslVersion, "/dsl", Level::L1);
    let v = patch::check(&base_spec(), br#"{"title":"t","operations":[]}"#);
    fails(&v, Code::DslVersion, "/dsl", Level::L1);
}

#[test]
fn e_limit_before_any_heavy_work() {
    let ops: Vec<Value> = (0..501)
        .map(|i| add_field("Customer", &format!("f{i}"), json!({"type": "string"})))
        .collect();
    fails(
        &run(Value::Array(ops)),
        Code::Limit,
        "/operations",
        Level::L3,
    );
    let big = format!(
        r#"{{"dsl":"modgate.patch/v1","title":"{}","operations":[]}}"#,
        "x".repeat(1024 * 1024)
    );
    fails(
        &patch::check(&base_spec(), big.as_bytes()),
        Code::Limit,
        "",
        Level::L3,
    );
    let deep = format!(
        r#"{{"dsl":"modgate.patch/v1","title":"t","operations":[],"tests":[{}1{}]}}"#,
        "[".repeat(40),
        "]".repeat(40)
    );
    fails(
        &patch::check(&base_spec(), deep.as_bytes()),
        Code::Limit,
        "",
        Level::L3,
    );
    // 500 is fine.
    let ops: Vec<Value> = (0..500)
        .map(|i| add_field("Customer", &format!("f{i}"), json!({"type": "string"})))
        .collect();
    ok(&run(Value::Array(ops)), Level::L1);
}

// ---------- unknown things, with suggestions ----------

#[test]
fn e_unknown_codes_name_the_thing_and_suggest() {
    let m = fails(
        &one(add_field("Custmer", "x", json!({"type": "string"}))),
        Code::UnknownObject,
        "/operations/0/target/object",
        Level::L1,
    );
    assert!(
        m.contains("'Custmer'") && m.contains("did you mean 'Customer'?"),
        "{m}"
    );
    let m = fails(
        &one(
            json!({ "scope": "object", "op": "update", "target": { "object": "Customer", "field": "emial" }, "value": { "label": "E" } }),
        ),
        Code::UnknownField,
        "/operations/0/target/field",
        Level::L1,
    );
    assert!(m.contains("did you mean 'email'?"), "{m}");
    let m = fails(
        &one(
            json!({ "scope": "state", "op": "remove", "target": { "object": "Order", "state": "shiped" } }),
        ),
        Code::UnknownState,
        "/operations/0/target/state",
        Level::L2,
    );
    assert!(m.contains("did you mean 'shipped'?"), "{m}");
    let m = fails(
        &one(
            json!({ "scope": "state", "op": "update", "target": { "object": "Order", "transition": "cancle" }, "value": { "label": "x" } }),
        ),
        Code::UnknownTransition,
        "/operations/0/target/transition",
        Level::L1,
    );
    assert!(m.contains("did you mean 'cancel'?"), "{m}");
    let m = fails(
        &one(json!({ "scope": "page", "op": "remove", "target": { "page": "customer.lst" } })),
        Code::UnknownPage,
        "/operations/0/target/page",
        Level::L2,
    );
    assert!(m.contains("did you mean 'customer.list'?"), "{m}");
    let m = fails(
        &one(
            json!({ "scope": "permission", "op": "add", "target": { "role": "sale", "object": "Customer" }, "value": ["delete"] }),
        ),
        Code::UnknownRole,
        "/operations/0/target/role",
        Level::L2,
    );
    assert!(m.contains("did you mean 'sales'?"), "{m}");
    let m = fails(
        &one(json!({ "scope": "menu", "op": "remove", "target": { "menu": "crm.order" } })),
        Code::UnknownMenu,
        "/operations/0/target/menu",
        Level::L2,
    );
    assert!(m.contains("did you mean 'crm.orders'?"), "{m}");
    fails(
        &one(
            json!({ "scope": "menu", "op": "add", "target": { "menu": "crm.x" }, "value": { "label": "X", "parent": "nope" } }),
        ),
        Code::UnknownMenu,
        "/operations/0/value/parent",
        Level::L1,
    );
    fails(
        &one(
            json!({ "scope": "state", "op": "add", "target": { "object": "OrderTracking", "state": "x" } }),
        ),
        Code::UnknownState,
        "/operations/0/target/object",
        Level::L1,
    );
}

#[test]
fn e_already_exists() {
    fails(
        &one(add_field("Customer", "email", json!({"type": "email"}))),
        Code::AlreadyExists,
        "/operations/0/target/field",
        Level::L1,
    );
    fails(
        &one(add_field("Customer", "status", json!({"type": "string"}))),
        Code::AlreadyExists,
        "/operations/0/target/field",
        Level::L1,
    );
    fails(
        &one(
            json!({ "scope": "object", "op": "add", "target": { "object": "Order" }, "value": { "label": "O" } }),
        ),
        Code::AlreadyExists,
        "/operations/0/target/object",
        Level::L1,
    );
    fails(
        &one(
            json!({ "scope": "state", "op": "add", "target": { "object": "Order", "state": "draft" } }),
        ),
        Code::AlreadyExists,
        "/operations/0/target/state",
        Level::L1,
    );
    fails(
        &one(
            json!({ "scope": "state", "op": "add", "target": { "object": "Order" }, "value": { "field": "s", "initial": "a", "states": { "a": {} } } }),
        ),
        Code::AlreadyExists,
        "/operations/0/target/object",
        Level::L1,
    );
    fails(
        &one(
            json!({ "scope": "permission", "op": "add", "target": { "role": "sales", "object": "Customer" }, "value": ["read"] }),
        ),
        Code::AlreadyExists,
        "/operations/0/value",
        Level::L2,
    );
    fails(
        &one(
            json!({ "scope": "menu", "op": "add", "target": { "menu": "crm.orders" }, "value": { "label": "x" } }),
        ),
        Code::AlreadyExists,
        "/operations/0/target/menu",
        Level::L1,
    );
    fails(
        &one(
            json!({ "scope": "page", "op": "add", "target": { "page": "order.list" }, "value": { "type": "list", "object": "Order", "columns": ["number"] } }),
        ),
        Code::AlreadyExists,
        "/operations/0/target/page",
        Level::L1,
    );
}

#[test]
fn e_op_not_allowed() {
    fails(
        &one(
            json!({ "scope": "object", "op": "reorder", "target": { "object": "Customer" }, "value": [] }),
        ),
        Code::OpNotAllowed,
        "/operations/0/op",
        Level::L1,
    );
    fails(
        &one(
            json!({ "scope": "page", "op": "update", "target": { "page": "customer.list", "list": "columns" }, "value": {} }),
        ),
        Code::OpNotAllowed,
        "/operations/0/op",
        Level::L1,
    );
    fails(
        &one(
            json!({ "scope": "permission", "op": "reorder", "target": { "role": "sales" }, "value": [] }),
        ),
        Code::OpNotAllowed,
        "/operations/0/op",
        Level::L2,
    );
    fails(
        &one(
            json!({ "scope": "permission", "op": "remove", "target": { "role": "support", "object": "Order" }, "value": ["delete"] }),
        ),
        Code::OpNotAllowed,
        "/operations/0/value",
        Level::L2,
    );
}

#[test]
fn e_invalid_name() {
    let m = fails(
        &one(add_field(
            "Customer",
            "loyalty points",
            json!({"type": "integer"}),
        )),
        Code::InvalidName,
        "/operations/0/target/field",
        Level::L1,
    );
    assert!(
        m.contains("loyaltyPoints"),
        "suggests a camelCase name: {m}"
    );
    fails(
        &one(
            json!({ "scope": "object", "op": "add", "target": { "object": "invoice" }, "value": { "label": "I" } }),
        ),
        Code::InvalidName,
        "/operations/0/target/object",
        Level::L1,
    );
    fails(
        &one(
            json!({ "scope": "page", "op": "add", "target": { "page": "Invoice List" }, "value": { "type": "list", "object": "Order", "columns": ["number"] } }),
        ),
        Code::InvalidName,
        "/operations/0/target/page",
        Level::L1,
    );
    fails(
        &one(
            json!({ "scope": "menu", "op": "add", "target": { "menu": "CRM/X" }, "value": { "label": "x" } }),
        ),
        Code::InvalidName,
        "/operations/0/target/menu",
        Level::L1,
    );
    fails(
        &one(
            json!({ "scope": "permission", "op": "add", "target": { "role": "Key Accounts" }, "value": { "label": "K" } }),
        ),
        Code::InvalidName,
        "/operations/0/target/role",
        Level::L2,
    );
    fails(
        &one(
            json!({ "scope": "state", "op": "add", "target": { "object": "Order", "transition": "Put-On-Hold" }, "value": { "from": ["draft"], "to": "draft" } }),
        ),
        Code::InvalidName,
        "/operations/0/target/transition",
        Level::L1,
    );
}

#[test]
fn e_field_type_for_bad_constraints_in_the_result() {
    let v = one(add_field(
        "Customer",
        "score",
        json!({ "type": "integer", "min": 10, "max": 1 }),
    ));
    let m = fails(
        &v,
        Code::FieldType,
        "/spec/objects/Customer/fields/score/min",
        Level::L1,
    );
    assert!(m.contains("min 10 is greater than max 1"), "{m}");
    assert_eq!(
        v.report.errors[0].op,
        Some(0),
        "attributed to the operation that made it"
    );
    fails(
        &one(add_field(
            "Customer",
            "x",
            json!({ "type": "boolean", "maxLength": 3 }),
        )),
        Code::FieldType,
        "/spec/objects/Customer/fields/x/maxLength",
        Level::L1,
    );
    fails(
        &one(add_field(
            "Customer",
            "x",
            json!({ "type": "enum", "values": ["a"], "default": "b" }),
        )),
        Code::FieldType,
        "/spec/objects/Customer/fields/x/default",
        Level::L1,
    );
    fails(
        &one(add_field(
            "Customer",
            "x",
            json!({ "type": "string", "pattern": "([" }),
        )),
        Code::FieldType,
        "/spec/objects/Customer/fields/x/pattern",
        Level::L1,
    );
    fails(
        &one(add_field(
            "Customer",
            "x",
            json!({ "type": "decimal", "scale": -2 }),
        )),
        Code::FieldType,
        "/spec/objects/Customer/fields/x/scale",
        Level::L1,
    );
}

#[test]
fn e_type_change_and_widening() {
    let change = |field: &str, ty: &str| {
        one(
            json!({ "scope": "object", "op": "update", "target": { "object": "Customer", "field": field }, "value": { "type": ty } }),
        )
    };
    let m = fails(
        &change("tier", "integer"),
        Code::TypeChange,
        "/operations/0/value",
        Level::L3,
    );
    assert!(m.contains("enum") && m.contains("integer"), "{m}");
    fails(
        &change("name", "integer"),
        Code::TypeChange,
        "/operations/0/value",
        Level::L3,
    );
    // Widening changes are allowed, and need confirmation.
    let v = one(
        json!({ "scope": "object", "op": "update", "target": { "object": "Customer", "field": "email" }, "value": { "type": "string" } }),
    );
    ok(&v, Level::L2);
    let v = one(
        json!({ "scope": "object", "op": "update", "target": { "object": "Customer", "field": "notes" }, "value": { "type": "string" } }),
    );
    fails(&v, Code::TypeChange, "/operations/0/value", Level::L3);
    let v = one(
        json!({ "scope": "object", "op": "update", "target": { "object": "Customer", "field": "name" }, "value": { "type": "text" } }),
    );
    ok(&v, Level::L2);
    let v = one(
        json!({ "scope": "object", "op": "update", "target": { "object": "Order", "field": "customer" }, "value": { "object": "Order" } }),
    );
    fails(&v, Code::TypeChange, "/operations/0/value", Level::L3);
    // A field this patch added has no data yet: any change is fine.
    let v = run(json!([
        add_field("Customer", "score", json!({ "type": "string" })),
        { "scope": "object", "op": "update", "target": { "object": "Customer", "field": "score" }, "value": { "type": "integer" } }
    ]));
    ok(&v, Level::L1);
}

#[test]
fn e_reorder_requires_a_permutation() {
    let v = one(
        json!({ "scope": "page", "op": "reorder", "target": { "page": "customer.list", "list": "columns" }, "value": ["email", "name"] }),
    );
    let m = fails(&v, Code::Reorder, "/operations/0/value", Level::L1);
    assert!(m.contains("missing company, tier, status"), "{m}");
    let v = one(
        json!({ "scope": "page", "op": "reorder", "target": { "page": "customer.list", "list": "sections" }, "value": [] }),
    );
    fails(&v, Code::Reorder, "/operations/0/target/list", Level::L1);
    let v = one(
        json!({ "scope": "menu", "op": "reorder", "target": { "menu": "crm" }, "value": ["crm.orders", "crm.orders", "crm.customers", "crm.tracking"] }),
    );
    fails(&v, Code::Reorder, "/operations/0/value", Level::L1);
    let v = one(
        json!({ "scope": "page", "op": "reorder", "target": { "page": "customer.list", "list": "columns" }, "value": ["status", "name", "email", "company", "tier"] }),
    );
    ok(&v, Level::L1);
    let v = one(
        json!({ "scope": "page", "op": "reorder", "target": { "page": "customer.form", "list": "sections" }, "value": ["account", "contact"] }),
    );
    ok(&v, Level::L1);
    let after = v.spec.unwrap();
    let spec::PageDef::Form(f) = &after.pages["customer.form"] else {
        panic!()
    };
    assert_eq!(f.sections[0].id, "account");
}

#[test]
fn e_reference_when_the_result_does_not_resolve() {
    let v = one(
        json!({ "scope": "object", "op": "remove", "target": { "object": "Customer", "field": "email" } }),
    );
    let m = fails(
        &v,
        Code::Reference,
        "/spec/pages/customer.detail/sections/0/fields/1",
        Level::L2,
    );
    assert!(m.contains("'email'"), "{m}");
    assert_eq!(v.report.errors[0].op, Some(0), "attributed to the removal");
    // Intermediate states may be unresolved: a page added before its object is fine.
    let v = run(json!([
        { "scope": "page", "op": "add", "target": { "page": "campaign.list" }, "value": { "type": "list", "object": "Campaign", "columns": ["name"] } },
        { "scope": "object", "op": "add", "target": { "object": "Campaign" }, "value": { "label": "Campaign", "fields": { "name": { "type": "string", "required": true } } } }
    ]));
    ok(&v, Level::L1);
    let v = one(
        json!({ "scope": "state", "op": "add", "target": { "object": "Order", "transition": "hold" }, "value": { "from": ["confirmed"], "to": "onHold" } }),
    );
    let m = fails(
        &v,
        Code::Reference,
        "/spec/objects/Order/stateFlow/transitions/hold/to",
        Level::L1,
    );
    assert!(m.contains("onHold"));
}

// ---------- L3: blocked ----------

#[test]
fn e_system_field_is_l3() {
    let v = one(
        json!({ "scope": "object", "op": "remove", "target": { "object": "Customer", "field": "createdAt" } }),
    );
    let m = fails(
        &v,
        Code::SystemField,
        "/operations/0/target/field",
        Level::L3,
    );
    assert_eq!(m, "field 'createdAt' of Customer is a system field");
    assert_eq!(v.report.operations[0].level, Level::L3);
    fails(
        &one(add_field("Customer", "version", json!({"type": "integer"}))),
        Code::SystemField,
        "/operations/0/target/field",
        Level::L3,
    );
    fails(
        &one(
            json!({ "scope": "object", "op": "add", "target": { "object": "Campaign" }, "value": { "label": "C", "fields": { "id": { "type": "string" } } } }),
        ),
        Code::SystemField,
        "/operations/0/value/fields/id",
        Level::L3,
    );
    fails(
        &one(
            json!({ "scope": "state", "op": "add", "target": { "object": "OrderTracking" }, "value": { "field": "updatedBy", "initial": "a", "states": { "a": {} } } }),
        ),
        Code::SystemField,
        "/operations/0/value/field",
        Level::L3,
    );
}

#[test]
fn e_permission_escalation_is_l3() {
    fails(
        &one(
            json!({ "scope": "permission", "op": "add", "target": { "role": "admin", "object": "Customer" }, "value": ["read"] }),
        ),
        Code::PermissionEscalation,
        "/operations/0/target/role",
        Level::L3,
    );
    fails(
        &one(
            json!({ "scope": "permission", "op": "add", "target": { "role": "developer" }, "value": { "label": "Dev" } }),
        ),
        Code::PermissionEscalation,
        "/operations/0/target/role",
        Level::L3,
    );
    fails(
        &one(
            json!({ "scope": "permission", "op": "add", "target": { "role": "sales", "object": "Order" }, "value": ["*"] }),
        ),
        Code::PermissionEscalation,
        "/operations/0/value/0",
        Level::L3,
    );
    fails(
        &one(
            json!({ "scope": "permission", "op": "add", "target": { "role": "auditor" }, "value": { "label": "A", "grants": { "Order": ["read", "*"] } } }),
        ),
        Code::PermissionEscalation,
        "/operations/0/value/grants/Order/1",
        Level::L3,
    );
}

#[test]
fn e_protected_is_l3() {
    for obj in spec::BASE_OBJECTS {
        fails(
            &one(json!({ "scope": "object", "op": "remove", "target": { "object": obj } })),
            Code::Protected,
            "/operations/0/target/object",
            Level::L3,
        );
    }
    fails(
        &one(
            json!({ "scope": "object", "op": "update", "target": { "object": "FinancialTransaction" }, "value": { "immutable": false } }),
        ),
        Code::Protected,
        "/operations/0/value",
        Level::L3,
    );
    let v = one(
        json!({ "scope": "permission", "op": "add", "target": { "role": "finance", "object": "FinancialTransaction" }, "value": ["delete"] }),
    );
    let m = fails(
        &v,
        Code::Protected,
        "/spec/roles/finance/grants/FinancialTransaction",
        Level::L3,
    );
    assert!(m.contains("immutable"));
    assert_eq!(v.report.errors[0].op, Some(0));
    // Making an object immutable while a role may delete it is caught too.
    let v = one(
        json!({ "scope": "object", "op": "update", "target": { "object": "OrderTracking" }, "value": { "immutable": true } }),
    );
    fails(
        &v,
        Code::Protected,
        "/spec/roles/support/grants/OrderTracking",
        Level::L3,
    );
}

// ---------- levels ----------

#[test]
fn l1_additive_changes() {
    ok(
        &one(add_field(
            "Customer",
            "loyaltyPoints",
            json!({ "type": "integer", "min": 0, "default": 0 }),
        )),
        Level::L1,
    );
    ok(
        &one(
            json!({ "scope": "state", "op": "add", "target": { "object": "Order", "state": "onHold" } }),
        ),
        Level::L1,
    );
    ok(
        &one(
            json!({ "scope": "object", "op": "update", "target": { "object": "Customer", "field": "name" }, "value": { "label": "Full name" } }),
        ),
        Level::L1,
    );
    ok(
        &one(
            json!({ "scope": "object", "op": "update", "target": { "object": "Customer" }, "value": { "description": "People we sell to" } }),
        ),
        Level::L1,
    );
    ok(
        &one(
            json!({ "scope": "state", "op": "update", "target": { "object": "Order", "transition": "ship" }, "value": { "label": "Dispatch" } }),
        ),
        Level::L1,
    );
    ok(
        &one(
            json!({ "scope": "menu", "op": "add", "target": { "menu": "crm.vip" }, "value": { "label": "VIP", "parent": "crm", "page": "customer.list" } }),
        ),
        Level::L1,
    );
    ok(
        &one(
            json!({ "scope": "page", "op": "update", "target": { "page": "customer.list" }, "value": { "columns": ["name", "tier"] } }),
        ),
        Level::L1,
    );
    // Translations are labels: L1 wherever they are.
    ok(
        &one(
            json!({ "scope": "object", "op": "update", "target": { "object": "Customer", "field": "tier" }, "value": { "labels": { "zh-CN": "客户等级" }, "valueLabels": { "gold": { "zh-CN": "黄金" } } } }),
        ),
        Level::L1,
    );
    ok(
        &one(
            json!({ "scope": "menu", "op": "update", "target": { "menu": "crm.orders" }, "value": { "label": "Orders", "labels": { "zh-CN": "销售订单" } } }),
        ),
        Level::L1,
    );
    // A new numbered field numbers new records; nothing stored changes.
    ok(
        &one(add_field(
            "OrderTracking",
            "eventNumber",
            json!({ "type": "string", "autoNumber": { "prefix": "EV-", "digits": 5 } }),
        )),
        Level::L1,
    );
    // Loosening a constraint is safe.
    ok(
        &one(
            json!({ "scope": "object", "op": "update", "target": { "object": "Customer", "field": "name" }, "value": { "maxLength": 400 } }),
        ),
        Level::L1,
    );
}

#[test]
fn l2_changes_that_can_reject_hide_or_expose_data() {
    let upd = |field: &str, value: Value| {
        one(
            json!({ "scope": "object", "op": "update", "target": { "object": "Customer", "field": field }, "value": value }),
        )
    };
    ok(&upd("phone", json!({ "required": true })), Level::L2);
    // Numbering an existing field writes numbers into existing records at publish.
    let v = upd(
        "company",
        json!({ "autoNumber": { "prefix": "C-", "digits": 4 } }),
    );
    ok(&v, Level::L2);
    assert!(
        v.report.operations[0].summary.contains("in creation order"),
        "{:?}",
        v.report.operations[0]
    );
    ok(&upd("company", json!({ "unique": true })), Level::L2);
    ok(&upd("name", json!({ "maxLength": 100 })), Level::L2);
    ok(&upd("creditLimit", json!({ "min": 10 })), Level::L2);
    ok(
        &upd("company", json!({ "pattern": "[A-Za-z ]+" })),
        Level::L2,
    );
    ok(
        &upd(
            "tier",
            json!({ "values": ["silver", "gold"], "default": "silver" }),
        ),
        Level::L2,
    );
    // Removing a field (and the page entries that show it) hides data.
    let v = run(json!([
        { "scope": "object", "op": "remove", "target": { "object": "Customer", "field": "notes" } },
        { "scope": "page", "op": "update", "target": { "page": "customer.form" }, "value": { "sections": [ { "id": "contact", "fields": ["name", "email"] } ] } },
        { "scope": "page", "op": "update", "target": { "page": "customer.detail" }, "value": { "sections": [ { "id": "contact", "fields": ["name"] } ] } }
    ]));
    ok(&v, Level::L2);
    assert_eq!(
        v.report
            .warnings
            .iter()
            .filter(|w| w.code == "W_HIDES_DATA")
            .count(),
        1
    );
    ok(
        &one(
            json!({ "scope": "state", "op": "update", "target": { "object": "Order", "transition": "cancel" }, "value": { "from": ["draft"] } }),
        ),
        Level::L2,
    );
    ok(
        &one(
            json!({ "scope": "permission", "op": "add", "target": { "role": "support", "object": "Customer" }, "value": ["create"] }),
        ),
        Level::L2,
    );
    ok(
        &one(
            json!({ "scope": "permission", "op": "remove", "target": { "role": "support", "object": "Customer" }, "value": ["update"] }),
        ),
        Level::L2,
    );
    ok(
        &one(add_field(
            "Customer",
            "segment",
            json!({ "type": "string", "required": true }),
        )),
        Level::L2,
    );
    ok(
        &one(json!({ "scope": "menu", "op": "remove", "target": { "menu": "crm.tracking" } })),
        Level::L2,
    );
}

#[test]
fn patch_level_is_the_highest_op_level_and_ops_are_summarised() {
    let v = run(json!([
        add_field("Customer", "loyaltyPoints", json!({ "type": "integer", "min": 0, "default": 0 })),
        { "scope": "permission", "op": "add", "target": { "role": "support", "object": "Customer" }, "value": ["create"] }
    ]));
    ok(&v, Level::L2);
    assert_eq!(v.report.operations.len(), 2);
    assert_eq!(v.report.operations[0].level, Level::L1);
    assert_eq!(
        v.report.operations[0].summary,
        "add integer field Customer.loyaltyPoints"
    );
    assert_eq!(v.report.operations[1].level, Level::L2);
    assert_eq!(
        v.report.operations[1].summary,
        "grant create on Customer to support"
    );
}

#[test]
fn the_report_has_exactly_the_documented_shape() {
    let v = one(
        json!({ "scope": "object", "op": "remove", "target": { "object": "Customer", "field": "createdAt" } }),
    );
    let j = serde_json::to_value(&v.report).unwrap();
    assert_eq!(
        j,
        json!({ "valid": false, "level": "L3",
                "errors": [ { "code": "E_SYSTEM_FIELD", "op": 0, "path": "/operations/0/target/field", "level": "L3",
                              "message": "field 'createdAt' of Customer is a system field" } ],
                "warnings": [],
                "operations": [ { "op": 0, "level": "L3", "summary": "remove field Customer.createdAt" } ] })
    );
}

#[test]
fn every_error_code_is_produced() {
    // One minimal patch per code; the set produced must be every code there is.
    let raw = |b: &[u8]| patch::check(&base_spec(), b);
    let cases: Vec<Validation> = vec![
        raw(b"[]"),
        raw(br#"{"dsl":"x","title":"t","operations":[]}"#),
        one(add_field("Nope", "x", json!({"type": "string"}))),
        one(
            json!({ "scope": "object", "op": "remove", "target": { "object": "Customer", "field": "nope" } }),
        ),
        one(
            json!({ "scope": "state", "op": "remove", "target": { "object": "Order", "state": "nope" } }),
        ),
        one(
            json!({ "scope": "state", "op": "remove", "target": { "object": "Order", "transition": "nope" } }),
        ),
        one(json!({ "scope": "page", "op": "remove", "target": { "page": "nope.list" } })),
        one(json!({ "scope": "permission", "op": "remove", "target": { "role": "nope" } })),
        one(json!({ "scope": "menu", "op": "remove", "target": { "menu": "nope" } })),
        one(add_field("Customer", "email", json!({"type": "email"}))),
        one(
            json!({ "scope": "object", "op": "reorder", "target": { "object": "Customer" }, "value": [] }),
        ),
        one(add_field("Customer", "Bad Name", json!({"type": "string"}))),
        one(add_field(
            "Customer",
            "x",
            json!({"type": "integer", "min": 2, "max": 1}),
        )),
        one(
            json!({ "scope": "object", "op": "update", "target": { "object": "Customer", "field": "tier" }, "value": { "type": "date", "values": null, "default": null } }),
        ),
        one(
            json!({ "scope": "page", "op": "reorder", "target": { "page": "customer.list", "list": "columns" }, "value": ["name"] }),
        ),
        one(
            json!({ "scope": "object", "op": "remove", "target": { "object": "Customer", "field": "email" } }),
        ),
        one(
            json!({ "scope": "object", "op": "remove", "target": { "object": "Customer", "field": "id" } }),
        ),
        one(
            json!({ "scope": "permission", "op": "add", "target": { "role": "admin" }, "value": { "label": "x" } }),
        ),
        one(json!({ "scope": "object", "op": "remove", "target": { "object": "Order" } })),
        raw(format!(
            r#"{{"dsl":"modgate.patch/v1","title":"t","operations":[],"tests":[{}{}]}}"#,
            "[".repeat(33),
            "]".repeat(33)
        )
        .as_bytes()),
    ];
    let produced: std::collections::BTreeSet<String> = cases
        .iter()
        .flat_map(|v| v.report.errors.iter().map(|e| e.code.clone()))
        .collect();
    let all: std::collections::BTreeSet<String> =
        Code::ALL.iter().map(|c| c.as_str().to_owned()).collect();
    assert_eq!(produced, all);
}

// ---------- execution ----------

#[test]
fn ops_apply_in_order_and_atomically() {
    let base = base_spec();
    let v = run(json!([
        add_field(
            "Customer",
            "loyaltyPoints",
            json!({ "type": "integer", "min": 0, "default": 0 })
        ),
        add_field("Customer", "email", json!({ "type": "email" }))
    ]));
    assert!(!v.report.valid);
    assert_eq!(v.report.errors.len(), 1);
    assert_eq!(v.report.errors[0].op, Some(1));
    assert!(v.spec.is_none() && v.changes.is_empty());
    assert_eq!(base, base_spec(), "the input spec is untouched");
    let v = run(json!([
        { "scope": "object", "op": "add", "target": { "object": "Campaign" }, "value": { "label": "Campaign" } },
        add_field("Campaign", "name", json!({ "type": "string", "required": true })),
        { "scope": "object", "op": "update", "target": { "object": "Campaign", "field": "name" }, "value": { "maxLength": 80 } }
    ]));
    ok(&v, Level::L1);
    let s = v.spec.unwrap();
    assert_eq!(s.objects["Campaign"].fields["name"].max_length, Some(80));
}

#[test]
fn update_is_json_merge_patch() {
    let v = one(
        json!({ "scope": "object", "op": "update", "target": { "object": "Customer", "field": "creditLimit" }, "value": { "min": null, "label": "Limit" } }),
    );
    ok(&v, Level::L1);
    let f = &v.spec.unwrap().objects["Customer"].fields["creditLimit"];
    assert_eq!(f.min, None, "null removes a key");
    assert_eq!(f.label.as_deref(), Some("Limit"));
    assert_eq!(f.scale, Some(2), "absent keys stay");
}

#[test]
fn dry_run_gives_changes_and_a_unified_diff() {
    let doc = json!({ "dsl": "modgate.patch/v1", "title": "Loyalty", "operations": [
        add_field("Customer", "loyaltyPoints", json!({ "type": "integer", "min": 0, "default": 0 })),
        { "scope": "menu", "op": "add", "target": { "menu": "crm.loyalty" }, "value": { "label": "Loyalty", "parent": "crm", "page": "customer.list" } }
    ] });
    let d = patch::dry_run(&base_spec(), doc.to_string().as_bytes());
    assert!(d.report.valid);
    assert_eq!(d.changes.len(), 2);
    assert_eq!(d.changes[0].name, "Customer.loyaltyPoints");
    assert_eq!(d.changes[0].path, "/objects/Customer/fields/loyaltyPoints");
    assert!(d.diff.starts_with("--- spec (before)\n+++ spec (after)\n"));
    assert!(
        d.diff.contains("+        \"loyaltyPoints\": {"),
        "{}",
        d.diff
    );
    assert!(d.diff.contains("\"id\": \"crm.loyalty\""));
}

#[test]
fn warnings_for_hidden_data_and_noops() {
    let v = run(json!([
        { "scope": "page", "op": "reorder", "target": { "page": "customer.list", "list": "columns" }, "value": ["name", "email", "company", "tier", "status"] }
    ]));
    ok(&v, Level::L1);
    assert_eq!(v.report.warnings[0].code, "W_NOOP");
    let v = one(
        json!({ "scope": "object", "op": "remove", "target": { "object": "Customer", "field": "country" } }),
    );
    assert!(!v.report.valid, "pages still show country");
}

/// Which field names a record hides no data: changing it is L1; naming a field that
/// is not there, or one that is not text, is refused.
#[test]
fn the_title_field_can_be_set_and_changed_at_l1() {
    let v = one(
        json!({ "scope": "object", "op": "update", "target": { "object": "Customer" },
                         "value": { "titleField": "company" } }),
    );
    ok(&v, Level::L1);
    assert_eq!(
        v.spec.unwrap().objects["Customer"].title_field(),
        Some("company")
    );
    let v = one(
        json!({ "scope": "object", "op": "update", "target": { "object": "Customer" },
                         "value": { "titleField": "nickname" } }),
    );
    assert!(!v.report.valid);
    assert!(
        v.report.errors.iter().any(|e| e.code == "E_UNKNOWN_FIELD"),
        "{:#?}",
        v.report.errors
    );
}

#[test]
fn translations_and_numbering_are_checked() {
    let upd = |field: &str, value: Value| {
        one(
            json!({ "scope": "object", "op": "update", "target": { "object": "Customer", "field": field }, "value": value }),
        )
    };
    fails(
        &upd("name", json!({ "labels": { "Chinese": "名称" } })),
        Code::InvalidName,
        "/spec/objects/Customer/fields/name/labels/Chinese",
        Level::L1,
    );
    fails(
        &upd("name", json!({ "labels": { "zh-CN": " " } })),
        Code::InvalidName,
        "/spec/objects/Customer/fields/name/labels/zh-CN",
        Level::L1,
    );
    fails(
        &upd(
            "tier",
            json!({ "valueLabels": { "platinum": { "zh-CN": "铂金" } } }),
        ),
        Code::FieldType,
        "/spec/objects/Customer/fields/tier/valueLabels/platinum",
        Level::L1,
    );
    // Removing an enum value takes its labels along.
    let v = upd(
        "tier",
        json!({ "values": ["silver", "gold"], "default": "silver" }),
    );
    ok(&v, Level::L2);
    let tier = &v.spec.unwrap().objects["Customer"].fields["tier"];
    assert!(!tier.value_labels.contains_key("bronze"));
    assert!(tier.value_labels.contains_key("gold"));
    fails(
        &upd(
            "tier",
            json!({ "autoNumber": { "prefix": "T-", "digits": 3 } }),
        ),
        Code::FieldType,
        "/spec/objects/Customer/fields/tier/autoNumber",
        Level::L2,
    );
    let m = fails(
        &upd(
            "country",
            json!({ "autoNumber": { "prefix": "C-", "digits": 3 } }),
        ),
        Code::FieldType,
        "/spec/objects/Customer/fields/country/autoNumber",
        Level::L2,
    );
    assert!(m.contains("C-001"), "{m}");
}

//! The offline engine: English and Chinese requests and the exact patches expected.

use proptest::prelude::*;
use serde_json::{Value, json};

fn ops(request: &str) -> Value {
    let base = spec::base_spec();
    let doc = offline::respond(&base, None, request)
        .unwrap_or_else(|r| panic!("{request}: {}", r.message));
    let v = patch::validate(&base, &doc);
    assert!(v.report.valid, "{request}: {:?}", v.report.errors);
    serde_json::to_value(&doc.operations).unwrap()
}

/// Only the first operation (the definition); page updates are checked separately.
fn first(request: &str) -> Value {
    ops(request)[0].clone()
}

#[test]
fn fields_in_english() {
    let table = [
        (
            "add an integer field loyaltyPoints to Customer",
            json!({"scope":"object","op":"add","target":{"object":"Customer","field":"loyaltyPoints"},
                "value":{"type":"integer","label":"Loyalty points"}}),
        ),
        (
            "Add an integer field loyaltyPoints to Customer with default 0 and min 0.",
            json!({"scope":"object","op":"add","target":{"object":"Customer","field":"loyaltyPoints"},
                "value":{"type":"integer","label":"Loyalty points","min":0,"default":0}}),
        ),
        (
            "add a required unique string field code to Order with max length 20",
            json!({"scope":"object","op":"add","target":{"object":"Order","field":"code"},
                "value":{"type":"string","label":"Code","required":true,"unique":true,"maxLength":20}}),
        ),
        (
            "add a decimal field discount to Order between 0 and 100",
            json!({"scope":"object","op":"add","target":{"object":"Order","field":"discount"},
                "value":{"type":"decimal","label":"Discount","min":0,"max":100,"scale":2}}),
        ),
        (
            "add an enum field segment to Customer with values retail, wholesale, partner default retail",
            json!({"scope":"object","op":"add","target":{"object":"Customer","field":"segment"},
                "value":{"type":"enum","label":"Segment","values":["retail","wholesale","partner"],"default":"retail"}}),
        ),
        (
            "add a boolean field vip to customer with default false",
            json!({"scope":"object","op":"add","target":{"object":"Customer","field":"vip"},
                "value":{"type":"boolean","label":"Vip","default":false}}),
        ),
        (
            "add a reference field referrer to Customer referencing Customer",
            json!({"scope":"object","op":"add","target":{"object":"Customer","field":"referrer"},
                "value":{"type":"reference","label":"Referrer","object":"Customer"}}),
        ),
        (
            "add a date field birthday to Customer",
            json!({"scope":"object","op":"add","target":{"object":"Customer","field":"birthday"},
                "value":{"type":"date","label":"Birthday"}}),
        ),
        (
            "add a datetime field promisedAt to Order",
            json!({"scope":"object","op":"add","target":{"object":"Order","field":"promisedAt"},"value":{"type":"datetime","label":"Promised at"}}),
        ),
        (
            "add a text field remarks to Order",
            json!({"scope":"object","op":"add","target":{"object":"Order","field":"remarks"},"value":{"type":"text","label":"Remarks"}}),
        ),
        (
            "add an email field billingEmail to Customer",
            json!({"scope":"object","op":"add","target":{"object":"Customer","field":"billingEmail"},"value":{"type":"email","label":"Billing email"}}),
        ),
        (
            "add a phone field mobile to Customer",
            json!({"scope":"object","op":"add","target":{"object":"Customer","field":"mobile"},"value":{"type":"phone","label":"Mobile"}}),
        ),
        (
            "add a url field website to Customer",
            json!({"scope":"object","op":"add","target":{"object":"Customer","field":"website"},"value":{"type":"url","label":"Website"}}),
        ),
        (
            "add a json field extra to Order",
            json!({"scope":"object","op":"add","target":{"object":"Order","field":"extra"},"value":{"type":"json","label":"Extra"}}),
        ),
        (
            "add a string field \"Tax number\" to Customer",
            json!({"scope":"object","op":"add","target":{"object":"Customer","field":"taxNumber"},"value":{"type":"string","label":"Tax number"}}),
        ),
    ];
    for (request, expected) in table {
        assert_eq!(first(request), expected, "{request}");
    }
}

#[test]
fn fields_in_chinese() {
    let table = [
        (
            "给客户添加一个整数字段 积分",
            json!({"scope":"object","op":"add","target":{"object":"Customer","field":"points"},
                "value":{"type":"integer","label":"Points","labels":{"zh-CN":"积分"}}}),
        ),
        (
            "给客户添加一个整数字段 积分，默认值 0，最小值 0",
            json!({"scope":"object","op":"add","target":{"object":"Customer","field":"points"},
                "value":{"type":"integer","label":"Points","labels":{"zh-CN":"积分"},"min":0,"default":0}}),
        ),
        (
            "给客户添加一个日期字段 客户的生日",
            json!({"scope":"object","op":"add","target":{"object":"Customer","field":"customerBirthday"},
                "value":{"type":"date","label":"Customer birthday","labels":{"zh-CN":"客户的生日"}}}),
        ),
        (
            "给订单添加一个必填的文本字段 编号（code），最大长度 20",
            json!({"scope":"object","op":"add","target":{"object":"Order","field":"code"},
                "value":{"type":"string","label":"Code","labels":{"zh-CN":"编号"},"required":true,"maxLength":20}}),
        ),
        (
            "为客户增加一个枚举字段 会员等级，可选值 普通、白银、黄金",
            json!({"scope":"object","op":"add","target":{"object":"Customer","field":"memberLevel"},
                "value":{"type":"enum","label":"Member level","labels":{"zh-CN":"会员等级"},"values":["普通","白银","黄金"]}}),
        ),
        (
            "给订单添加一个金额字段 折扣",
            json!({"scope":"object","op":"add","target":{"object":"Order","field":"discount"},
                "value":{"type":"decimal","label":"Discount","labels":{"zh-CN":"折扣"},"scale":2}}),
        ),
    ];
    for (request, expected) in table {
        assert_eq!(first(request), expected, "{request}");
    }
}

#[test]
fn a_new_field_appears_on_the_objects_pages() {
    let all = ops("add an integer field loyaltyPoints to Customer");
    let pages: Vec<&str> = all.as_array().unwrap()[1..]
        .iter()
        .map(|o| o["target"]["page"].as_str().unwrap())
        .collect();
    assert_eq!(pages, ["customer.detail", "customer.form", "customer.list"]);
    assert_eq!(
        all[3]["value"]["columns"],
        json!([
            "name",
            "email",
            "company",
            "tier",
            "status",
            "loyaltyPoints"
        ])
    );
    assert_eq!(
        all[2]["value"]["sections"][1]["fields"],
        json!(["tier", "creditLimit", "notes", "loyaltyPoints"])
    );
}

#[test]
fn objects_states_menus_and_grants() {
    let o = ops(
        "add an object Campaign with fields name (string, required), budget (decimal), startsOn (date)",
    );
    assert_eq!(
        o[0],
        json!({"scope":"object","op":"add","target":{"object":"Campaign"},"value":{"label":"Campaign","fields":{
        "name":{"type":"string","label":"Name","required":true},
        "budget":{"type":"decimal","label":"Budget","scale":2},
        "startsOn":{"type":"date","label":"Starts on"}}}})
    );
    assert_eq!(
        o[1],
        json!({"scope":"page","op":"add","target":{"page":"campaign.list"},"value":{"type":"list","object":"Campaign","label":"Campaign","columns":["name","budget","startsOn"]}})
    );
    assert_eq!(o[2]["target"]["page"], "campaign.form");
    assert_eq!(
        o[3],
        json!({"scope":"menu","op":"add","target":{"menu":"crm.campaign"},"value":{"label":"Campaign","page":"campaign.list","parent":"crm"}})
    );

    let z = ops("添加对象 活动，字段：名称（文本，必填）、预算（金额）");
    assert_eq!(z[0]["target"]["object"], "Campaign");
    assert_eq!(z[0]["value"]["label"], "Campaign");
    assert_eq!(z[0]["value"]["labels"]["zh-CN"], "活动");
    assert_eq!(
        z[0]["value"]["fields"]["name"],
        json!({"type":"string","label":"Name","labels":{"zh-CN":"名称"},"required":true})
    );

    assert_eq!(
        ops("add state onHold to Order; add transition hold from confirmed to onHold on Order"),
        json!([{"scope":"state","op":"add","target":{"object":"Order","state":"onHold"},"value":{"label":"On hold"}},
               {"scope":"state","op":"add","target":{"object":"Order","transition":"hold"},"value":{"label":"Hold","from":["confirmed"],"to":"onHold"}}])
    );
    assert_eq!(
        ops("给订单添加状态 暂停（onHold）；给订单添加转换 hold，从 confirmed 到 onHold")[0],
        json!({"scope":"state","op":"add","target":{"object":"Order","state":"onHold"},"value":{"label":"On hold","labels":{"zh-CN":"暂停"}}})
    );
    assert_eq!(
        ops("add a menu item Loyalty for customer.list"),
        json!([{"scope":"menu","op":"add","target":{"menu":"crm.loyalty"},"value":{"label":"Loyalty","page":"customer.list","parent":"crm"}}])
    );
    assert_eq!(
        ops("添加菜单项 积分 指向 customer.list")[0]["target"]["menu"],
        "crm.points"
    );
    assert_eq!(
        ops("grant finance update on Customer"),
        json!([{"scope":"permission","op":"add","target":{"role":"finance","object":"Customer"},"value":["update"]}])
    );
    assert_eq!(
        ops("授予 客服 对 订单 的 修改、创建 权限"),
        json!([{"scope":"permission","op":"add","target":{"role":"support","object":"Order"},"value":["update","create"]}])
    );
    assert_eq!(
        ops("revoke support delete on OrderTracking"),
        json!([{"scope":"permission","op":"remove","target":{"role":"support","object":"OrderTracking"},"value":["delete"]}])
    );
}

#[test]
fn a_new_request_extends_the_current_patch() {
    let base = spec::base_spec();
    let one = offline::respond(
        &base,
        None,
        "add an object Campaign with fields name (string)",
    )
    .unwrap();
    let two =
        offline::respond(&base, Some(&one), "add a decimal field budget to Campaign").unwrap();
    assert_eq!(two.title, one.title);
    assert_eq!(&two.operations[..one.operations.len()], &one.operations[..]);
    assert!(patch::validate(&base, &two).report.valid);
    let cols = two
        .operations
        .iter()
        .rev()
        .find(|o| o.target.page.as_deref() == Some("campaign.list"))
        .unwrap();
    assert_eq!(
        cols.value.as_ref().unwrap()["columns"],
        json!(["name", "budget"])
    );
}

#[test]
fn what_it_cannot_do_is_refused_with_its_capabilities() {
    let base = spec::base_spec();
    for (request, needle) in [
        ("make the CRM better", "did not understand"),
        ("", "did not understand"),
        (
            "add a colour field tint to Customer",
            "unknown field type 'colour'",
        ),
        ("add an enum field tier2 to Customer", "needs its values"),
        ("帮我优化一下系统", "没有理解"),
        ("给客户添加一个整数字段 ——", "不是字段名"),
        ("show company on the customer list", "nothing to change"),
    ] {
        let r = offline::respond(&base, None, request).unwrap_err();
        assert!(r.message.contains(needle), "{request}: {}", r.message);
        assert!(
            r.message.contains("loyaltyPoints") || r.message.contains("积分"),
            "lists what it can do"
        );
    }
}

proptest! {
    #[test]
    fn any_text_gets_an_answer_not_a_panic_and_the_same_answer_twice(s in "\\PC{0,120}") {
        let base = spec::base_spec();
        let a = offline::respond(&base, None, &s).map(|d| serde_json::to_string(&d).unwrap()).map_err(|r| r.message);
        let b = offline::respond(&base, None, &s).map(|d| serde_json::to_string(&d).unwrap()).map_err(|r| r.message);
        prop_assert_eq!(a, b);
    }

    #[test]
    fn field_requests_for_any_name_and_type_validate(
        name in "[a-z][a-zA-Z0-9]{0,20}",
        ty in prop::sample::select(vec!["string", "text", "integer", "decimal", "boolean", "date", "datetime", "email", "phone", "url", "json"]),
        object in prop::sample::select(vec!["Customer", "Order", "OrderTracking"]),
    ) {
        let base = spec::base_spec();
        prop_assume!(!base.objects[object].fields.contains_key(&name) && !spec::names::SYSTEM_FIELDS.contains(&name.as_str()));
        let doc = offline::respond(&base, None, &format!("add a {ty} field {name} to {object}")).unwrap();
        let v = patch::validate(&base, &doc);
        prop_assert!(v.report.valid, "{:?}", v.report.errors);
    }
}

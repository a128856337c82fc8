//! The built-in offline rules engine: turns simple, precisely worded requests in
//! English or Chinese into Patch DSL documents, deterministically and without a
//! network, so the whole lifecycle works out of the box and in tests.
//!
//! It understands adding a field (every type, with required / unique / default /
//! min / max / max length / values / reference), adding an object with fields (plus
//! its list and form pages and a menu item), adding a state or transition (with the
//! states it names that do not exist yet), adding a menu item (under a parent, for an
//! object's list), showing or hiding a list column, renaming a field's label, making
//! a field required / optional / unique, widening an enum, and granting or revoking
//! a role's actions on an object. A new request
//! extends the module's current patch; a new field or object comes with a basic
//! create/read test scenario in the patch's `tests`. Anything else is refused with a list of what
//! it can do — it never invents a patch.

mod glossary;
mod request;
mod scenarios;

pub use request::{
    FieldChange, FieldSpec, Intent, NotUnderstood, humanize, intent, is_chinese, sentences,
};

use patch::{OpKind, Operation, PatchDocument, Scope, Target};
use serde_json::{Map, Value, json};
use spec::{FieldType, Spec};

/// What the engine says when it cannot help, in the request's language.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub message: String,
}

pub const CAPABILITIES_EN: &str = "The built-in offline engine understands requests like:\n\
  - add an integer field loyaltyPoints to Customer with default 0 and min 0\n\
  - add a required unique string field code to Order with max length 20\n\
  - add an enum field segment to Customer with values retail, wholesale\n\
  - add a reference field referrer to Customer referencing Customer\n\
  - add an object Campaign with fields name (string, required), budget (decimal), startsOn (date)\n\
  - add state onHold to Order; add transition hold from confirmed to onHold on Order\n\
  - add an object Supplier with fields name (string, required) and customer (reference to Customer)\n\
  - add a menu item Overdue Orders under CRM for the order list\n\
  - show notes on the customer list; hide email from the customer list\n\
  - rename email on Customer to \"Work email\"; make phone on Customer required (or unique, optional)\n\
  - add value platinum to tier on Customer\n\
  - grant sales read, update on Campaign; revoke support delete on OrderTracking\n\
Configure a model under AI Model Configuration for anything else.";

pub const CAPABILITIES_ZH: &str = "内置离线引擎可以理解这样的请求：\n\
  - 给客户添加一个整数字段 积分，默认值 0，最小值 0\n\
  - 给订单添加一个必填的文本字段 编号（code），最大长度 20\n\
  - 给客户添加一个枚举字段 等级，可选值 普通、白银、黄金\n\
  - 添加对象 活动，字段：名称（文本，必填）、预算（金额）、开始日期（日期）\n\
  - 给订单添加状态 暂停（onHold）；给订单添加转换 hold，从 confirmed 到 onHold\n\
  - 在 CRM 下添加菜单项 逾期订单 指向 订单列表\n\
  - 在客户列表中显示 备注；在客户列表中隐藏 邮箱\n\
  - 把客户的 邮箱 改为 工作邮箱；把客户的 电话 设为必填（或唯一、选填）\n\
  - 给客户的 等级 添加可选值 钻石\n\
  - 授予 销售 对 活动 的 读取、修改 权限；撤销 客服 对 OrderTracking 的 删除 权限\n\
其他需求请在“AI 模型配置”中配置模型。";

fn refuse(request: &str, detail: &str) -> Refusal {
    let zh = is_chinese(request);
    let head = match (zh, detail.is_empty()) {
        (true, true) => "内置离线引擎没有理解这个请求。".to_owned(),
        (false, true) => "The built-in offline engine did not understand this request.".to_owned(),
        (true, false) => format!("内置离线引擎无法处理：{detail}"),
        (false, false) => format!("The built-in offline engine cannot do this: {detail}"),
    };
    Refusal {
        message: format!(
            "{head}\n\n{}",
            if zh { CAPABILITIES_ZH } else { CAPABILITIES_EN }
        ),
    }
}

/// Answers a request: the module's current patch extended by what was asked.
pub fn respond(
    base: &Spec,
    current: Option<&PatchDocument>,
    request: &str,
) -> Result<PatchDocument, Refusal> {
    // Requests refer to what the current patch added, so read them against it.
    let working = match current {
        Some(doc) if !doc.operations.is_empty() => patch::apply(base, doc).map_err(|r| {
            let first = r
                .errors
                .first()
                .map(|e| e.message.clone())
                .unwrap_or_default();
            refuse(
                request,
                &format!("the module's current patch is not valid ({first}); fix it first"),
            )
        })?,
        _ => base.clone(),
    };
    let sentences = sentences(request);
    if sentences.is_empty() {
        return Err(refuse(request, ""));
    }
    let mut doc = current.cloned().unwrap_or_else(|| PatchDocument {
        dsl: patch::DSL_VERSION.to_owned(),
        title: title_of(request),
        description: None,
        operations: Vec::new(),
        tests: Vec::new(),
    });
    // Each sentence reads the spec as the earlier ones left it.
    let mut spec_now = working;
    for s in sentences {
        let objects: Vec<(String, String)> = spec_now
            .objects
            .iter()
            .map(|(n, o)| (n.clone(), o.label.clone()))
            .collect();
        let intent = intent(s, &objects).map_err(|e| refuse(request, &e.0))?;
        let ops = operations(&spec_now, &intent);
        if ops.is_empty() {
            return Err(refuse(
                request,
                if is_chinese(request) {
                    "没有需要修改的内容：它已经是这样了"
                } else {
                    "nothing to change: it is already so"
                },
            ));
        }
        for note in notes(&spec_now, &intent, is_chinese(request)) {
            let d = doc.description.get_or_insert_with(String::new);
            if !d.is_empty() {
                d.push(' ');
            }
            d.push_str(&note);
        }
        let mut step = PatchDocument {
            dsl: patch::DSL_VERSION.to_owned(),
            title: doc.title.clone(),
            description: None,
            operations: ops.clone(),
            tests: Vec::new(),
        };
        if let Ok(next) = patch::apply(&spec_now, &step) {
            spec_now = next;
            // A basic create/read scenario for what was added (docs/testing.md).
            let test = match &intent {
                Intent::AddField { object, field } => {
                    scenarios::for_field(&spec_now, object, &field.name)
                }
                Intent::AddObject { name, .. } => scenarios::for_object(&spec_now, name),
                _ => None,
            };
            if let Some(t) = test
                && !doc.tests.iter().any(|x| x["name"] == t["name"])
            {
                doc.tests.push(t);
            }
        }
        doc.operations.append(&mut step.operations);
    }
    Ok(doc)
}

fn title_of(request: &str) -> String {
    let first = sentences(request)
        .first()
        .copied()
        .unwrap_or("Module")
        .to_owned();
    let mut t: String = first.chars().take(80).collect();
    if let Some(c) = t.get(0..1)
        && c.chars().all(|c| c.is_ascii_lowercase())
    {
        t.replace_range(0..1, &c.to_uppercase());
    }
    t
}

fn op(scope: Scope, kind: OpKind, target: Target, value: Option<Value>) -> Operation {
    Operation {
        scope,
        op: kind,
        target,
        value,
    }
}

fn target() -> Target {
    serde_json::from_value(json!({})).expect("an empty target")
}

/// Sets `label` on a JSON definition. A label given in Chinese becomes the `zh-CN`
/// translation, and `label` reads the identifier the engine chose (`memberLevel` →
/// "Member level"), so English users see words rather than another language.
fn labelled(mut v: Value, label: &str, name: &str) -> Value {
    if is_chinese(label) {
        v["label"] = json!(request::humanize(name));
        v["labels"] = json!({ "zh-CN": label });
    } else {
        v["label"] = json!(label);
    }
    v
}

fn field_value(f: &FieldSpec, objects: &[(String, String)]) -> Value {
    let mut v = Map::new();
    v.insert("type".into(), json!(f.ty.as_str()));
    if let Value::Object(l) = labelled(json!({}), &f.label, &f.name) {
        v.extend(l);
    }
    if f.required {
        v.insert("required".into(), json!(true));
    }
    if f.unique {
        v.insert("unique".into(), json!(true));
    }
    if let Some(n) = &f.max_length {
        v.insert("maxLength".into(), json!(n));
    }
    if let Some(n) = &f.min {
        v.insert("min".into(), Value::Number(n.clone()));
    }
    if let Some(n) = &f.max {
        v.insert("max".into(), Value::Number(n.clone()));
    }
    if let Some(vals) = &f.values {
        v.insert("values".into(), json!(vals));
    }
    if let Some(r) = &f.reference {
        v.insert("object".into(), json!(request::object_name(r, objects)));
    }
    if f.ty == FieldType::Decimal {
        v.insert("scale".into(), json!(2));
    }
    if let Some(d) = &f.default {
        v.insert("default".into(), d.clone());
    }
    Value::Object(v)
}

/// The pages of an object, as JSON, by id.
fn pages_of(spec_json: &Value, object: &str) -> Vec<(String, Value)> {
    spec_json["pages"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, p)| p["object"] == object)
                .map(|(id, p)| (id.clone(), p.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Puts a new field on the object's pages: the end of a list's columns, the last
/// section of a form, the last non-system section of a detail page.
fn show_on_pages(spec: &Spec, object: &str, field: &str) -> Vec<Operation> {
    let spec_json = serde_json::to_value(spec).unwrap_or(Value::Null);
    let mut ops = Vec::new();
    for (id, page) in pages_of(&spec_json, object) {
        let mut t = target();
        t.page = Some(id.clone());
        match page["type"].as_str() {
            Some("list") => {
                let mut cols: Vec<Value> = page["columns"].as_array().cloned().unwrap_or_default();
                cols.push(json!(field));
                ops.push(op(
                    Scope::Page,
                    OpKind::Update,
                    t,
                    Some(json!({ "columns": cols })),
                ));
            }
            Some(kind @ ("form" | "detail")) => {
                let mut sections: Vec<Value> =
                    page["sections"].as_array().cloned().unwrap_or_default();
                let pick = sections.iter().rposition(|s| {
                    kind == "form"
                        || !s["fields"].as_array().is_some_and(|f| {
                            f.iter().all(|x| {
                                x.as_str()
                                    .is_some_and(|x| spec::names::SYSTEM_FIELDS.contains(&x))
                            })
                        })
                });
                if let Some(i) = pick {
                    if let Some(fields) = sections[i]["fields"].as_array_mut() {
                        fields.push(json!(field));
                    }
                    ops.push(op(
                        Scope::Page,
                        OpKind::Update,
                        t,
                        Some(json!({ "sections": sections })),
                    ));
                }
            }
            _ => {}
        }
    }
    ops
}

fn page_prefix(object: &str) -> String {
    let mut out = String::new();
    for (i, c) in object.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The states a transition request names that its object does not have yet.
fn missing_states(spec: &Spec, intent: &Intent) -> Vec<String> {
    let Intent::AddTransition {
        object, from, to, ..
    } = intent
    else {
        return Vec::new();
    };
    let Some(flow) = spec.objects.get(object).and_then(|o| o.state_flow.as_ref()) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for s in from.iter().chain(std::iter::once(to)) {
        if !flow.states.contains_key(s) && !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

/// What the engine did beyond the letter of a request, said in its language.
fn notes(spec: &Spec, intent: &Intent, zh: bool) -> Vec<String> {
    missing_states(spec, intent)
        .into_iter()
        .map(|s| {
            if zh {
                format!("状态 {s} 尚不存在，已一并添加。")
            } else {
                format!("The state {s} did not exist yet; it is added too.")
            }
        })
        .collect()
}

/// A field as written — its name in any case, its label, its Chinese label, or a
/// Chinese name read through the glossary or pinyin — as the object names it; as
/// written when nothing matches (the validator then names it).
fn field_name(spec: &Spec, object: &str, written: &str) -> String {
    let w = written.trim().trim_matches(|c| c == '"' || c == '\'');
    let Some(o) = spec.objects.get(object) else {
        return w.to_owned();
    };
    let found = o.fields.iter().find(|(name, f)| {
        name.eq_ignore_ascii_case(w)
            || f.label
                .as_deref()
                .is_some_and(|l| l.eq_ignore_ascii_case(w))
            || f.labels.values().any(|l| l == w)
    });
    if let Some((name, _)) = found {
        return name.clone();
    }
    if is_chinese(w) {
        for words in [glossary::english_words(w), glossary::pinyin_words(w)]
            .into_iter()
            .flatten()
        {
            let id = spec::names::camel_from_words(&words);
            if o.fields.contains_key(&id) {
                return id;
            }
        }
    } else {
        let id = spec::names::camel_from_words(w);
        if o.fields.contains_key(&id) {
            return id;
        }
    }
    w.to_owned()
}

/// A menu item named by id or label (any case, or its Chinese label).
fn menu_id(spec: &Spec, written: &str) -> Option<String> {
    fn walk(nodes: &[spec::MenuNode], w: &str) -> Option<String> {
        nodes.iter().find_map(|n| {
            if n.id.eq_ignore_ascii_case(w)
                || n.label.eq_ignore_ascii_case(w)
                || n.labels.values().any(|l| l == w)
            {
                Some(n.id.clone())
            } else {
                walk(&n.children, w)
            }
        })
    }
    walk(&spec.menus, written.trim())
}

/// The operations for one intent, read against `spec` (which includes the earlier
/// requests of the module).
pub fn operations(spec: &Spec, intent: &Intent) -> Vec<Operation> {
    let objects: Vec<(String, String)> = spec
        .objects
        .iter()
        .map(|(n, o)| (n.clone(), o.label.clone()))
        .collect();
    match intent {
        Intent::AddField { object, field } => {
            let mut t = target();
            t.object = Some(object.clone());
            t.field = Some(field.name.clone());
            let mut ops = vec![op(
                Scope::Object,
                OpKind::Add,
                t,
                Some(field_value(field, &objects)),
            )];
            ops.extend(show_on_pages(spec, object, &field.name));
            ops
        }
        Intent::AddObject {
            name,
            label,
            fields,
        } => {
            let mut defs = Map::new();
            for f in fields {
                defs.insert(f.name.clone(), field_value(f, &objects));
            }
            let mut t = target();
            t.object = Some(name.clone());
            let mut ops = vec![op(
                Scope::Object,
                OpKind::Add,
                t,
                Some(labelled(json!({ "fields": defs }), label, name)),
            )];
            let prefix = page_prefix(name);
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            if !names.is_empty() {
                let mut t = target();
                t.page = Some(format!("{prefix}.list"));
                ops.push(op(
                    Scope::Page,
                    OpKind::Add,
                    t,
                    Some(labelled(
                        json!({ "type": "list", "object": name,
                        "columns": names.iter().take(6).collect::<Vec<_>>() }),
                        label,
                        name,
                    )),
                ));
                let mut t = target();
                t.page = Some(format!("{prefix}.form"));
                ops.push(op(
                    Scope::Page,
                    OpKind::Add,
                    t,
                    Some(labelled(
                        json!({ "type": "form", "object": name,
                        "sections": [labelled(json!({ "id": "main", "fields": names }), label, name)] }),
                        label,
                        name,
                    )),
                ));
                let mut t = target();
                t.menu = Some(format!("crm.{prefix}"));
                let mut v = labelled(json!({ "page": format!("{prefix}.list") }), label, name);
                if spec.menus.iter().any(|m| m.id == "crm") {
                    v["parent"] = json!("crm");
                }
                ops.push(op(Scope::Menu, OpKind::Add, t, Some(v)));
            }
            ops
        }
        Intent::AddState {
            object,
            state,
            label,
        } => {
            let mut t = target();
            t.object = Some(object.clone());
            t.state = Some(state.clone());
            vec![op(
                Scope::State,
                OpKind::Add,
                t,
                Some(labelled(json!({}), label, state)),
            )]
        }
        Intent::AddTransition {
            object,
            name,
            label,
            from,
            to,
        } => {
            // A state the transition names that does not exist yet is added first.
            let mut ops: Vec<Operation> = missing_states(spec, intent)
                .into_iter()
                .map(|state| {
                    let mut t = target();
                    t.object = Some(object.clone());
                    t.state = Some(state.clone());
                    op(
                        Scope::State,
                        OpKind::Add,
                        t,
                        Some(labelled(json!({}), &request::humanize(&state), &state)),
                    )
                })
                .collect();
            let mut t = target();
            t.object = Some(object.clone());
            t.transition = Some(name.clone());
            ops.push(op(
                Scope::State,
                OpKind::Add,
                t,
                Some(labelled(json!({ "from": from, "to": to }), label, name)),
            ));
            ops
        }
        Intent::AddMenu {
            label,
            page,
            parent,
        } => {
            // A page may be named by its object ("Customer", "订单" → its list page).
            let page_id = if spec.pages.contains_key(page) {
                page.clone()
            } else {
                let obj = request::object_name(page, &objects);
                spec.pages
                    .iter()
                    .find(|(_, p)| p.object() == obj && p.kind() == "list")
                    .map(|(id, _)| id.clone())
                    .unwrap_or_else(|| page.clone())
            };
            let id_word = if is_chinese(label) {
                glossary::english_words(label)
                    .or_else(|| glossary::pinyin_words(label))
                    .map(|w| spec::names::camel_from_words(&w))
                    .unwrap_or_else(|| page_id.replace('.', "_"))
            } else {
                spec::names::camel_from_words(label)
            };
            let parent_id = match parent {
                Some(p) => Some(menu_id(spec, p).unwrap_or_else(|| p.clone())),
                None => spec
                    .menus
                    .iter()
                    .any(|m| m.id == "crm")
                    .then(|| "crm".into()),
            };
            let mut t = target();
            t.menu = Some(format!(
                "{}.{}",
                parent_id.as_deref().unwrap_or("crm"),
                page_prefix(&id_word)
            ));
            let mut v = labelled(json!({ "page": page_id }), label, &id_word);
            if let Some(p) = parent_id {
                v["parent"] = json!(p);
            }
            vec![op(Scope::Menu, OpKind::Add, t, Some(v))]
        }
        Intent::ListColumn {
            object,
            field,
            show,
        } => {
            let field = field_name(spec, object, field);
            let spec_json = serde_json::to_value(spec).unwrap_or(Value::Null);
            let mut ops = Vec::new();
            for (id, page) in pages_of(&spec_json, object) {
                if page["type"] != "list" {
                    continue;
                }
                let mut cols: Vec<Value> = page["columns"].as_array().cloned().unwrap_or_default();
                let has = cols.iter().any(|c| c == field.as_str());
                match (show, has) {
                    (true, false) => cols.push(json!(field)),
                    (false, true) => cols.retain(|c| c != field.as_str()),
                    _ => continue,
                }
                let mut t = target();
                t.page = Some(id);
                ops.push(op(
                    Scope::Page,
                    OpKind::Update,
                    t,
                    Some(json!({ "columns": cols })),
                ));
            }
            ops
        }
        Intent::ChangeField {
            object,
            field,
            change,
        } => {
            let field = field_name(spec, object, field);
            let current = spec.objects.get(object).and_then(|o| o.fields.get(&field));
            let value = match change {
                FieldChange::Required(r) => json!({ "required": r }),
                FieldChange::Unique(u) => json!({ "unique": u }),
                FieldChange::Label(l) if is_chinese(l) => json!({ "labels": { "zh-CN": l } }),
                FieldChange::Label(l) => json!({ "label": l }),
                FieldChange::AddValues(add) => {
                    let mut values: Vec<String> =
                        current.and_then(|f| f.values.clone()).unwrap_or_default();
                    for v in add {
                        if !values.contains(v) {
                            values.push(v.clone());
                        }
                    }
                    json!({ "values": values })
                }
            };
            let mut t = target();
            t.object = Some(object.clone());
            t.field = Some(field);
            vec![op(Scope::Object, OpKind::Update, t, Some(value))]
        }
        Intent::ColumnFirst { object, field } => {
            let field = field_name(spec, object, field);
            let spec_json = serde_json::to_value(spec).unwrap_or(Value::Null);
            let mut ops = Vec::new();
            for (id, page) in pages_of(&spec_json, object) {
                let Some(cols) = page["columns"].as_array() else {
                    continue;
                };
                // A column not shown, or already first, leaves nothing to reorder.
                if !cols.iter().skip(1).any(|c| c == field.as_str()) {
                    continue;
                }
                let mut order = vec![json!(field)];
                order.extend(cols.iter().filter(|c| *c != field.as_str()).cloned());
                let mut t = target();
                t.page = Some(id);
                t.list = Some("columns".into());
                ops.push(op(Scope::Page, OpKind::Reorder, t, Some(json!(order))));
            }
            ops
        }
        Intent::RemoveField { object, field } => {
            let field = field_name(spec, object, field);
            let spec_json = serde_json::to_value(spec).unwrap_or(Value::Null);
            let mut ops = Vec::new();
            // The pages stop showing it first, so nothing refers to a removed field.
            for (id, page) in pages_of(&spec_json, object) {
                let mut value = serde_json::Map::new();
                for list in ["columns", "filters"] {
                    if let Some(items) = page[list].as_array()
                        && items.iter().any(|c| c == field.as_str())
                    {
                        let kept: Vec<&Value> =
                            items.iter().filter(|c| *c != field.as_str()).collect();
                        value.insert(list.into(), json!(kept));
                    }
                }
                if let Some(sections) = page["sections"].as_array()
                    && sections.iter().any(|s| {
                        s["fields"]
                            .as_array()
                            .is_some_and(|f| f.iter().any(|x| x == field.as_str()))
                    })
                {
                    let kept: Vec<Value> = sections
                        .iter()
                        .map(|s| {
                            let mut s = s.clone();
                            if let Some(f) = s["fields"].as_array_mut() {
                                f.retain(|x| x != field.as_str());
                            }
                            s
                        })
                        .collect();
                    value.insert("sections".into(), json!(kept));
                }
                if page["sort"]["field"] == field.as_str() {
                    value.insert("sort".into(), Value::Null);
                }
                if !value.is_empty() {
                    let mut t = target();
                    t.page = Some(id);
                    ops.push(op(
                        Scope::Page,
                        OpKind::Update,
                        t,
                        Some(Value::Object(value)),
                    ));
                }
            }
            let mut t = target();
            t.object = Some(object.clone());
            t.field = Some(field);
            ops.push(op(Scope::Object, OpKind::Remove, t, None));
            ops
        }
        Intent::Grant {
            role,
            object,
            actions,
        }
        | Intent::Revoke {
            role,
            object,
            actions,
        } => {
            let mut t = target();
            t.role = Some(role.clone());
            t.object = Some(object.clone());
            let kind = if matches!(intent, Intent::Grant { .. }) {
                OpKind::Add
            } else {
                OpKind::Remove
            };
            vec![op(Scope::Permission, kind, t, Some(json!(actions)))]
        }
    }
}

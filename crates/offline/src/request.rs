//! Reading a request: one sentence (or several, split by `;`, `；`, `。` or new lines)
//! into intents. Anything not matched exactly is not understood — no guessing.

use crate::glossary::{OBJECT_ALIASES, english_words, field_type};
use regex::Regex;
use serde_json::{Number, Value};
use spec::FieldType;
use std::sync::LazyLock;

/// What a field request says about the field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSpec {
    pub name: String,
    pub label: String,
    pub ty: FieldType,
    pub required: bool,
    pub unique: bool,
    pub default: Option<Value>,
    pub min: Option<Number>,
    pub max: Option<Number>,
    pub max_length: Option<i64>,
    pub values: Option<Vec<String>>,
    pub reference: Option<String>,
}

/// One understood request. Object names are as written; the builder resolves them.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    AddField {
        object: String,
        field: FieldSpec,
    },
    AddObject {
        name: String,
        label: String,
        fields: Vec<FieldSpec>,
    },
    AddState {
        object: String,
        state: String,
        label: String,
    },
    AddTransition {
        object: String,
        name: String,
        label: String,
        from: Vec<String>,
        to: String,
    },
    AddMenu {
        label: String,
        page: String,
    },
    Grant {
        role: String,
        object: String,
        actions: Vec<String>,
    },
    Revoke {
        role: String,
        object: String,
        actions: Vec<String>,
    },
}

/// Why a request was not understood, in the request's language.
#[derive(Debug, Clone, PartialEq)]
pub struct NotUnderstood(pub String);

fn re(p: &str) -> Regex {
    Regex::new(p).expect("the engine's patterns compile")
}

static FIELD_EN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)^(?:please\s+)?add\s+(?:(?:a|an)\s+)?(?P<mods>(?:(?:required|unique|mandatory)\s+)*)(?P<type>[a-z-]+)\s+field\s+(?:called\s+|named\s+)?(?P<name>"[^"]+"|'[^']+'|\S+)\s+(?:to|on)\s+(?:the\s+)?(?P<object>"[^"]+"|[A-Za-z][A-Za-z0-9]*)(?:\s+object)?(?P<rest>(?:[\s,].*)?)$"#,
    )
});
static FIELD_ZH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:请)?(?:给|为|在)\s*(?P<object>[^\s，,]+?)\s*(?:对象)?(?:上|中|里)?\s*(?:添加|增加|新增|加)\s*(?:一个|个)?\s*(?P<mods>(?:(?:必填|唯一)的?)*)\s*(?P<type>[^\s，,]+?)\s*字段\s*(?P<name>[^\s，,。（(]+)\s*(?:[（(]\s*(?P<id>[A-Za-z][A-Za-z0-9]*)\s*[）)])?(?P<rest>.*)$",
    )
});
static OBJECT_EN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)^(?:please\s+)?add\s+(?:(?:a|an)\s+)?(?:new\s+)?object\s+(?:called\s+|named\s+)?(?P<name>"[^"]+"|[A-Za-z][A-Za-z0-9]*)(?:\s+with\s+(?:the\s+)?fields?\s*:?\s*(?P<fields>.+))?$"#,
    )
});
static OBJECT_ZH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:请)?(?:添加|新增|创建|增加)\s*(?:一个)?\s*对象\s*(?P<name>[^\s，,（(：:]+)\s*(?:[（(]\s*(?P<id>[A-Za-z][A-Za-z0-9]*)\s*[）)])?\s*(?:[，,]?\s*(?:包含|含有|带有)?\s*字段\s*[：:]?\s*(?P<fields>.+))?$",
    )
});
static STATE_EN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(?:please\s+)?add\s+(?:(?:a|an)\s+)?state\s+(?P<state>[A-Za-z][A-Za-z0-9]*)\s+(?:to|on)\s+(?:the\s+)?(?P<object>[A-Za-z][A-Za-z0-9]*)$",
    )
});
static STATE_ZH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:请)?(?:给|为)\s*(?P<object>[^\s，,]+?)\s*(?:添加|增加|新增)\s*(?:一个)?\s*状态\s*(?P<label>[^\s，,（(]+)\s*(?:[（(]\s*(?P<id>[A-Za-z][A-Za-z0-9]*)\s*[）)])?$",
    )
});
static TRANSITION_EN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(?:please\s+)?add\s+(?:(?:a|an)\s+)?transition\s+(?P<name>[A-Za-z][A-Za-z0-9]*)\s+from\s+(?P<from>[A-Za-z][A-Za-z0-9]*(?:\s*(?:,|or|and)\s*[A-Za-z][A-Za-z0-9]*)*)\s+to\s+(?P<to>[A-Za-z][A-Za-z0-9]*)\s+(?:on|to|for)\s+(?:the\s+)?(?P<object>[A-Za-z][A-Za-z0-9]*)$",
    )
});
static TRANSITION_ZH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:请)?(?:给|为)\s*(?P<object>[^\s，,]+?)\s*(?:添加|增加|新增)\s*(?:一个)?\s*(?:转换|流转)\s*(?P<name>[A-Za-z][A-Za-z0-9]*)\s*[，,]?\s*从\s*(?P<from>[A-Za-z][A-Za-z0-9]*(?:\s*[、,，]\s*[A-Za-z][A-Za-z0-9]*)*)\s*到\s*(?P<to>[A-Za-z][A-Za-z0-9]*)$",
    )
});
static MENU_EN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)^(?:please\s+)?add\s+(?:(?:a|an)\s+)?menu\s+item\s+(?P<label>"[^"]+"|'[^']+'|\S+)\s+(?:for|to|pointing\s+to|opening)\s+(?:the\s+)?(?:page\s+)?(?P<page>[A-Za-z][\w.-]*)(?:\s+(?:page|list))?$"#,
    )
});
static MENU_ZH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:请)?(?:添加|新增|增加)\s*(?:一个)?\s*菜单(?:项)?\s*(?P<label>[^\s，,]+)\s*[，,]?\s*(?:指向|打开)\s*(?:页面)?\s*(?P<page>[A-Za-z][\w.-]*)$",
    )
});
static GRANT_EN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(?:please\s+)?(?P<verb>grant|revoke)\s+(?:the\s+)?(?:role\s+)?(?P<role>[a-z][A-Za-z0-9]*)\s+(?P<actions>(?:[a-z*:]+)(?:\s*(?:,|and)\s*[a-z*:]+)*)\s+(?:on|to|for)\s+(?:the\s+)?(?P<object>[A-Za-z][A-Za-z0-9]*)$",
    )
});
static GRANT_ZH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:请)?(?P<verb>授予|撤销|收回)\s*(?:角色)?\s*(?P<role>[^\s，,]+?)\s*(?:对|在)\s*(?P<object>[^\s，,]+?)\s*的\s*(?P<actions>[^\s，,]+(?:\s*[、,，和]\s*[^\s，,、]+)*?)\s*权限$",
    )
});

/// Whether the text is written in Chinese (the answer's language follows it).
pub fn is_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

fn unquote(s: &str) -> &str {
    s.trim().trim_matches(|c| c == '"' || c == '\'')
}

/// `loyaltyPoints` → `Loyalty points`.
pub fn humanize(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if i == 0 {
            out.extend(c.to_uppercase());
        } else if c.is_ascii_uppercase() {
            out.push(' ');
            out.extend(c.to_lowercase());
        } else if c == '_' {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// A camelCase identifier from what was written: kept when already one, made from
/// words otherwise.
fn identifier(written: &str) -> Option<String> {
    let w = unquote(written);
    if spec::names::is_camel(w) {
        return Some(w.to_owned());
    }
    let id = spec::names::camel_from_words(w);
    spec::names::is_camel(&id).then_some(id)
}

fn pascal(camel: &str) -> String {
    let mut c = camel.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A Chinese name: the label as written, the identifier from the glossary or the
/// one given in brackets.
fn chinese_identifier(name: &str, given: Option<&str>) -> Result<String, NotUnderstood> {
    if let Some(id) = given {
        return Ok(id.to_owned());
    }
    english_words(name)
        .map(|w| spec::names::camel_from_words(&w))
        .filter(|id| spec::names::is_camel(id))
        .ok_or_else(|| {
            NotUnderstood(format!(
                "无法为“{name}”生成英文标识符；请在括号中给出，例如：{name}（myField）"
            ))
        })
}

fn number(s: &str) -> Option<Number> {
    let t = s.trim().trim_end_matches(['.', '。']);
    if let Ok(i) = t.parse::<i64>() {
        return Some(i.into());
    }
    t.parse::<f64>().ok().and_then(Number::from_f64)
}

fn default_value(ty: FieldType, raw: &str) -> Value {
    let t = unquote(raw.trim().trim_end_matches(['.', '。']));
    match ty {
        FieldType::Integer | FieldType::Decimal => number(t)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(t.into())),
        FieldType::Boolean => match t.to_lowercase().as_str() {
            "true" | "yes" | "是" | "真" => Value::Bool(true),
            "false" | "no" | "否" | "假" => Value::Bool(false),
            _ => Value::String(t.into()),
        },
        _ => Value::String(t.into()),
    }
}

fn list_of(s: &str) -> Vec<String> {
    s.split([',', '、', '，', '/'])
        .flat_map(|p| p.split(" or "))
        .flat_map(|p| p.split(" and "))
        .map(|p| unquote(p.trim().trim_end_matches(['.', '。'])).to_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Reads modifiers after the field name: required, unique, default, min, max,
/// max length, values, and the referenced object.
fn modifiers(f: &mut FieldSpec, rest: &str) -> Result<(), NotUnderstood> {
    static DEFAULT: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)(?:default(?:\s+value)?(?:\s+(?:of|is))?|默认值?\s*(?:为|是)?)\s*[:：]?\s*(?P<v>[^\s,，;；]+)",
        )
    });
    static MAXLEN: LazyLock<Regex> = LazyLock::new(|| {
        re(r"(?i)(?:max(?:imum)?\s+length(?:\s+of)?|最大长度\s*(?:为)?)\s*(?P<v>\d+)")
    });
    static BETWEEN: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)(?:between|范围\s*(?:为)?)\s*(?P<a>-?\d+(?:\.\d+)?)\s*(?:and|to|到|至|-|~)\s*(?P<b>-?\d+(?:\.\d+)?)",
        )
    });
    static MIN: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)(?:\bmin(?:imum)?(?:\s+(?:of|is))?|at\s+least|最小值?\s*(?:为)?|不小于)\s*(?P<v>-?\d+(?:\.\d+)?)",
        )
    });
    static MAX: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)(?:\bmax(?:imum)?(?:\s+(?:of|is))?|at\s+most|最大值?\s*(?:为)?|不大于)\s*(?P<v>-?\d+(?:\.\d+)?)",
        )
    });
    static VALUES: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)(?:values?|options?|可选值|选项)\s*[:：]?\s*(?P<v>[^;；]+?)\s*(?:$|;|；|\s+(?:default|required|unique)\b|[，,]\s*默认)",
        )
    });
    static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)(?:referencing|pointing\s+to|references?|引用|关联)\s*(?:the\s+)?(?P<v>[^\s,，;；]+)",
        )
    });
    let lower = rest.to_lowercase();
    if lower.contains("required") || lower.contains("mandatory") || rest.contains("必填") {
        f.required = true;
    }
    if lower.contains("unique") || rest.contains("唯一") {
        f.unique = true;
    }
    let mut rest_wo_len = rest.to_owned();
    if let Some(c) = MAXLEN.captures(rest) {
        f.max_length = c["v"].parse().ok();
        rest_wo_len = MAXLEN.replace(rest, "").into_owned();
    }
    if let Some(c) = BETWEEN.captures(&rest_wo_len) {
        f.min = number(&c["a"]);
        f.max = number(&c["b"]);
    }
    if let Some(c) = MIN.captures(&rest_wo_len) {
        f.min = number(&c["v"]);
    }
    if let Some(c) = MAX.captures(&rest_wo_len) {
        f.max = number(&c["v"]);
    }
    if let Some(c) = VALUES.captures(rest) {
        f.values = Some(list_of(&c["v"]));
    }
    if let Some(c) = REFERENCE.captures(rest) {
        f.reference = Some(c["v"].to_owned());
    }
    if let Some(c) = DEFAULT.captures(rest) {
        f.default = Some(default_value(f.ty, &c["v"]));
    }
    if f.ty == FieldType::Enum && f.values.as_ref().is_none_or(|v| v.is_empty()) {
        return Err(NotUnderstood(
            "an enum field needs its values, e.g. \"with values bronze, silver, gold\"".into(),
        ));
    }
    if f.ty == FieldType::Reference && f.reference.is_none() {
        return Err(NotUnderstood(
            "a reference field needs the object it points to, e.g. \"referencing Customer\"".into(),
        ));
    }
    Ok(())
}

fn field(
    name: &str,
    label: String,
    type_word: &str,
    mods: &str,
    rest: &str,
) -> Result<FieldSpec, NotUnderstood> {
    let ty = field_type(type_word).ok_or_else(|| {
        NotUnderstood(format!(
            "unknown field type '{type_word}'; known: string, text, integer, decimal, boolean, date, datetime, email, phone, url, enum, reference, json"
        ))
    })?;
    let mut f = FieldSpec {
        name: name.to_owned(),
        label,
        ty,
        required: false,
        unique: false,
        default: None,
        min: None,
        max: None,
        max_length: None,
        values: None,
        reference: None,
    };
    modifiers(&mut f, &format!("{mods} {rest}"))?;
    Ok(f)
}

/// `name (string, required), budget (decimal)` or `名称（文本，必填）、预算（金额）`.
fn field_list(text: &str) -> Result<Vec<FieldSpec>, NotUnderstood> {
    static ITEM: LazyLock<Regex> =
        LazyLock::new(|| re(r"^\s*(?P<name>[^\s(（]+)\s*(?:[(（](?P<attrs>[^)）]*)[)）])?\s*$"));
    // Split on separators outside brackets.
    let mut items = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in text.trim().trim_end_matches(['.', '。']).chars() {
        match c {
            '(' | '（' => depth += 1,
            ')' | '）' => depth -= 1,
            _ => {}
        }
        if depth == 0 && matches!(c, ',' | '，' | '、' | ';' | '；') {
            items.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    items.push(cur);
    let mut out = Vec::new();
    for item in items.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
        let item = item.strip_prefix("and ").unwrap_or(item);
        let c = ITEM
            .captures(item)
            .ok_or_else(|| NotUnderstood(format!("cannot read the field '{item}'")))?;
        let attrs = c.name("attrs").map(|a| a.as_str()).unwrap_or("");
        let parts = list_of(attrs);
        let type_word = parts
            .iter()
            .find(|p| field_type(p).is_some())
            .cloned()
            .unwrap_or_else(|| "string".into());
        let written = &c["name"];
        let (name, label) = if is_chinese(written) {
            (chinese_identifier(written, None)?, written.to_owned())
        } else {
            let id = identifier(written)
                .ok_or_else(|| NotUnderstood(format!("'{written}' is not a field name")))?;
            let label = humanize(&id);
            (id, label)
        };
        let rest: Vec<&str> = parts
            .iter()
            .filter(|p| field_type(p).is_none())
            .map(String::as_str)
            .collect();
        out.push(field(&name, label, &type_word, "", &rest.join(" "))?);
    }
    Ok(out)
}

fn actions(text: &str) -> Vec<String> {
    list_of(text)
        .into_iter()
        .map(|a| {
            match a.as_str() {
                "读取" | "查看" | "读" => "read",
                "创建" | "新建" => "create",
                "修改" | "编辑" | "更新" => "update",
                "删除" => "delete",
                other => return other.to_lowercase(),
            }
            .to_owned()
        })
        .collect()
}

fn role_name(written: &str) -> String {
    match written {
        "销售" => "sales".into(),
        "财务" => "finance".into(),
        "客服" | "支持" | "售后" => "support".into(),
        other => other.to_owned(),
    }
}

/// The object a request names: by name, label, or Chinese alias; as written when
/// unknown (the validator then names it).
pub fn object_name(written: &str, known: &[(String, String)]) -> String {
    let w = unquote(written).trim_end_matches("对象");
    if let Some((_, name)) = OBJECT_ALIASES.iter().find(|(zh, _)| *zh == w) {
        return (*name).to_owned();
    }
    let lower = w.to_lowercase().replace(' ', "");
    for (name, label) in known {
        if name.to_lowercase() == lower
            || label.to_lowercase().replace(' ', "") == lower
            || label == w
            || format!("{}s", name.to_lowercase()) == lower
        {
            return name.clone();
        }
    }
    w.to_owned()
}

/// Reads one sentence.
pub fn intent(sentence: &str, objects: &[(String, String)]) -> Result<Intent, NotUnderstood> {
    let s = sentence.trim().trim_end_matches(['.', '。', '!', '！']);
    if let Some(c) = FIELD_EN.captures(s) {
        let name = identifier(&c["name"])
            .ok_or_else(|| NotUnderstood(format!("'{}' is not a field name", &c["name"])))?;
        let label = if c["name"].starts_with(['"', '\'']) {
            unquote(&c["name"]).to_owned()
        } else {
            humanize(&name)
        };
        let f = field(&name, label, &c["type"], &c["mods"], &c["rest"])?;
        return Ok(Intent::AddField {
            object: object_name(&c["object"], objects),
            field: f,
        });
    }
    if let Some(c) = FIELD_ZH.captures(s) {
        let label = c["name"].to_owned();
        let name = if is_chinese(&label) {
            chinese_identifier(&label, c.name("id").map(|m| m.as_str()))?
        } else {
            identifier(&label).ok_or_else(|| NotUnderstood(format!("“{label}”不是字段名")))?
        };
        let f = field(&name, label, &c["type"], &c["mods"], &c["rest"])?;
        return Ok(Intent::AddField {
            object: object_name(&c["object"], objects),
            field: f,
        });
    }
    if let Some(c) = OBJECT_EN.captures(s) {
        let written = unquote(&c["name"]);
        let name = pascal(
            &identifier(written)
                .ok_or_else(|| NotUnderstood(format!("'{written}' is not an object name")))?,
        );
        let fields = match c.name("fields") {
            Some(f) => field_list(f.as_str())?,
            None => Vec::new(),
        };
        return Ok(Intent::AddObject {
            label: humanize(&name),
            name,
            fields,
        });
    }
    if let Some(c) = OBJECT_ZH.captures(s) {
        let label = c["name"].to_owned();
        let name = if is_chinese(&label) {
            pascal(&chinese_identifier(
                &label,
                c.name("id").map(|m| m.as_str()),
            )?)
        } else {
            pascal(
                &identifier(&label).ok_or_else(|| NotUnderstood(format!("“{label}”不是对象名")))?,
            )
        };
        let fields = match c.name("fields") {
            Some(f) => field_list(f.as_str())?,
            None => Vec::new(),
        };
        return Ok(Intent::AddObject {
            name,
            label,
            fields,
        });
    }
    if let Some(c) = STATE_EN.captures(s) {
        return Ok(Intent::AddState {
            object: object_name(&c["object"], objects),
            state: c["state"].to_owned(),
            label: humanize(&c["state"]),
        });
    }
    if let Some(c) = STATE_ZH.captures(s) {
        let label = c["label"].to_owned();
        let state = if is_chinese(&label) {
            chinese_identifier(&label, c.name("id").map(|m| m.as_str()))?
        } else {
            label.clone()
        };
        return Ok(Intent::AddState {
            object: object_name(&c["object"], objects),
            state,
            label,
        });
    }
    if let Some(c) = TRANSITION_EN
        .captures(s)
        .or_else(|| TRANSITION_ZH.captures(s))
    {
        return Ok(Intent::AddTransition {
            object: object_name(&c["object"], objects),
            name: c["name"].to_owned(),
            label: humanize(&c["name"]),
            from: list_of(&c["from"]),
            to: c["to"].to_owned(),
        });
    }
    if let Some(c) = MENU_EN.captures(s).or_else(|| MENU_ZH.captures(s)) {
        return Ok(Intent::AddMenu {
            label: unquote(&c["label"]).to_owned(),
            page: c["page"].to_owned(),
        });
    }
    if let Some(c) = GRANT_EN.captures(s).or_else(|| GRANT_ZH.captures(s)) {
        let role = role_name(&c["role"]);
        let object = object_name(&c["object"], objects);
        let actions = actions(&c["actions"]);
        return Ok(match &c["verb"].to_lowercase()[..] {
            "grant" | "授予" => Intent::Grant {
                role,
                object,
                actions,
            },
            _ => Intent::Revoke {
                role,
                object,
                actions,
            },
        });
    }
    Err(NotUnderstood(String::new()))
}

/// Splits a request into sentences.
pub fn sentences(request: &str) -> Vec<&str> {
    request
        .split(['\n', ';', '；', '。'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

//! Reading a request: one sentence (or several, split by `;`, `；`, `。` or new lines)
//! into intents. Anything not matched exactly is not understood — no guessing.

use crate::glossary::{OBJECT_ALIASES, english_words, field_type, pinyin_words};
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
        /// A page id, or an object or its list as written ("the order list").
        page: String,
        /// The parent item, by id or label, when one is named.
        parent: Option<String>,
    },
    /// A field shown on or hidden from an object's list page.
    ListColumn {
        object: String,
        field: String,
        show: bool,
    },
    /// A change to an existing field; the field as written (name or label).
    ChangeField {
        object: String,
        field: String,
        change: FieldChange,
    },
    /// A field moved to the front of the object's list columns.
    ColumnFirst {
        object: String,
        field: String,
    },
    /// Removing a field: the object's pages stop showing it in the same patch.
    RemoveField {
        object: String,
        field: String,
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

/// What a request changes about an existing field.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldChange {
    Required(bool),
    Unique(bool),
    Label(String),
    AddValues(Vec<String>),
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
        r#"(?i)^(?:please\s+)?add\s+(?:(?:a|an)\s+)?(?:new\s+)?object\s+(?:called\s+|named\s+)?(?P<name>"[^"]+"|[A-Za-z][A-Za-z0-9]*)(?:(?:\s+with\s+(?:the\s+)?fields?\s*[:：]?|\s*[:：])\s*(?P<fields>.+))?$"#,
    )
});
static OBJECT_ZH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:请)?(?:添加|新增|创建|增加)\s*(?:一个)?\s*对象\s*(?P<name>[^\s，,（(：:]+)\s*(?:[（(]\s*(?P<id>[A-Za-z][A-Za-z0-9]*)\s*[）)])?\s*(?:(?:[，,]?\s*(?:包含|含有|带有)?\s*字段\s*[：:]?|[：:])\s*(?P<fields>.+))?$",
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
        r#"(?i)^(?:please\s+)?add\s+(?:(?:a|an)\s+)?(?:new\s+)?menu\s+item\s+(?:called\s+|named\s+)?(?P<label>"[^"]+"|'[^']+'|.+?)\s+under\s+(?:the\s+)?(?P<parent>"[^"]+"|\S+?)(?:\s+menu)?\s+(?:for|to|pointing\s+to|opening|that\s+opens|linking\s+to)\s+(?:the\s+)?(?:page\s+)?(?P<page>[A-Za-z][\w. -]*?)(?:\s+(?:page|list|list\s+page))?$"#,
    )
});
/// Without a parent the label runs to the last connecting word ("Orders to review
/// for the order list").
static MENU_EN_PLAIN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)^(?:please\s+)?add\s+(?:(?:a|an)\s+)?(?:new\s+)?menu\s+item\s+(?:called\s+|named\s+)?(?P<label>"[^"]+"|'[^']+'|.+)\s+(?:for|to|pointing\s+to|opening|that\s+opens|linking\s+to)\s+(?:the\s+)?(?:page\s+)?(?P<page>[A-Za-z][\w.-]*(?:\s+[A-Za-z][\w.-]*)?)(?:\s+(?:page|list|list\s+page))?$"#,
    )
});
static MENU_ZH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:请)?(?:在\s*(?P<parent>[^\s，,]+?)\s*(?:菜单)?(?:下|下面|中)\s*)?(?:添加|新增|增加)\s*(?:一个)?\s*菜单(?:项)?\s*(?P<label>[^\s，,]+)\s*[，,]?\s*(?:(?:放在|位于|挂在)\s*(?P<parent2>[^\s，,]+?)\s*(?:菜单)?(?:下|下面)\s*[，,]?\s*)?(?:指向|打开|链接到)\s*(?:页面)?\s*(?P<page>[^\s，,]+?)(?:页面|页)?$",
    )
});
static SHOW_EN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(?:please\s+)?(?:(?P<show>show|display|add)\s+(?:a\s+|the\s+)?(?:column\s+|field\s+)?|(?P<hide>hide|remove)\s+(?:the\s+)?(?:column\s+|field\s+)?)(?P<field>[A-Za-z][\w]*)(?:\s+column)?\s+(?:on|in|to|from)\s+(?:the\s+)?(?P<object>[A-Za-z][A-Za-z ]*?)\s+list(?:\s+page)?$",
    )
});
static SHOW_ZH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:请)?(?:在\s*(?P<object>[^\s，,]+?)\s*列表(?:页)?\s*(?:中|里|上)?\s*(?P<verb>显示|展示|隐藏|去掉|移除|不显示)\s*(?P<field>[^\s，,]+?)|(?:把|将)\s*(?P<field2>[^\s，,]+?)\s*(?:字段|列)?\s*(?P<verb2>显示在|展示在|从)\s*(?P<object2>[^\s，,]+?)\s*列表(?:页)?\s*(?:中|里|上)?\s*(?P<verb3>隐藏|去掉|移除)?)\s*(?:字段|列|这一列)?$",
    )
});
static SHOW_ZH_VERB_FIRST: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:请)?(?P<verb>显示|展示|隐藏|去掉|移除)\s*(?P<object>[^\s，,]+?)\s*列表(?:页)?\s*(?:中|里|上)?的?\s*(?P<field>[^\s，,]+?)\s*(?:字段|列)?$",
    )
});
static REQUIRED_EN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(?:please\s+)?make\s+(?:the\s+)?(?:(?:(?P<object>[A-Z][A-Za-z0-9]*)(?:\.|'s\s+)(?P<field>[A-Za-z]\w*)|(?:field\s+)?(?P<field2>[A-Za-z]\w*)(?:\s+field)?\s+(?:on|of|in)\s+(?:the\s+)?(?P<object2>[A-Za-z]\w*))\s+(?P<what>required|mandatory|optional|not\s+required|unique|not\s+unique)|(?:field\s+)?(?P<field3>[A-Za-z]\w*)(?:\s+field)?\s+(?P<what2>required|mandatory|optional|not\s+required|unique|not\s+unique)\s+(?:on|of|in|for)\s+(?:the\s+)?(?P<object3>[A-Za-z]\w*))$",
    )
});
static REQUIRED_ZH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:请)?(?:把|将|让|使)?\s*(?P<object>[^\s，,的]+?)\s*的\s*(?P<field>[^\s，,]+?)\s*(?:字段)?\s*(?:设为|设置为|改为|改成|变为|变成|成为)?\s*(?P<what>必填|选填|非必填|可选|唯一|不唯一|不必填)(?:项|字段)?$",
    )
});
static RENAME_EN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)^(?:please\s+)?(?:rename|relabel|change\s+the\s+label\s+of)\s+(?:the\s+)?(?:label\s+of\s+(?:the\s+)?)?(?:(?P<object>[A-Z][A-Za-z0-9]*)(?:\.|'s\s+)(?P<field>[A-Za-z]\w*)|(?:field\s+)?(?P<field2>[A-Za-z]\w*)(?:\s+field)?\s+(?:on|of|in)\s+(?:the\s+)?(?P<object2>[A-Za-z]\w*))\s+to\s+(?P<label>.+)$"#,
    )
});
static RENAME_ZH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:请)?(?:把|将)\s*(?P<object>[^\s，,的]+?)\s*的\s*(?P<field>[^\s，,]+?)\s*(?:字段)?(?:的)?(?:名称|标签|显示名称|显示名)?\s*(?:改为|改成|重命名为|更名为|改名为)\s*(?P<label>.+)$",
    )
});
static VALUES_EN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(?:please\s+)?add\s+(?:the\s+)?(?:values?|options?|choices?)\s+(?P<values>.+?)\s+to\s+(?:the\s+)?(?:(?P<object>[A-Z][A-Za-z0-9]*)(?:\.|'s\s+)(?P<field>[A-Za-z]\w*)|(?P<field2>[A-Za-z]\w*)(?:\s+field)?\s+(?:on|of|in)\s+(?:the\s+)?(?P<object2>[A-Za-z]\w*))$",
    )
});
static VALUES_ZH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:请)?(?:给|为)\s*(?P<object>[^\s，,的]+?)\s*的\s*(?P<field>[^\s，,]+?)\s*(?:字段)?\s*(?:添加|增加|新增)\s*(?:可选值|选项|取值|值)\s*[:：]?\s*(?P<values>.+)$",
    )
});
static COLUMN_FIRST_EN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(?:please\s+)?(?:(?:reorder|rearrange)\s+the\s+columns\s+(?:of|on|in)\s+(?:the\s+)?(?P<object>[A-Za-z]\w*)\s+list(?:\s+page)?\s+so\s+(?:that\s+)?(?P<field>[A-Za-z]\w*)\s+(?:comes|is)\s+first|(?:move|put)\s+(?P<field2>[A-Za-z]\w*)\s+(?:first|to\s+the\s+front)\s+(?:of|on|in)\s+the\s+(?P<object2>[A-Za-z]\w*)\s+list(?:\s+page)?)$",
    )
});
static COLUMN_FIRST_ZH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:请)?(?:调整\s*(?P<object>[^\s，,]+?)\s*列表(?:页)?\s*的?\s*列(?:的)?顺序\s*[，,]?\s*|在\s*(?P<object2>[^\s，,]+?)\s*列表(?:页)?\s*(?:中|里)\s*[，,]?\s*)把\s*(?P<field>[^\s，,]+?)\s*(?:放在|放到|移到)(?:第一列|最前面?)$",
    )
});
static REMOVE_FIELD_EN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(?:please\s+)?(?:remove|delete|drop)\s+(?:the\s+)?(?:(?P<object>[A-Z][A-Za-z0-9]*)(?:\.|'s\s+)(?P<field>[A-Za-z]\w*)(?:\s+field)?|(?:field\s+)?(?P<field2>[A-Za-z]\w*)(?:\s+field)?\s+(?:from|of|on)\s+(?:the\s+)?(?P<object2>[A-Za-z]\w*)(?:\s+object)?)$",
    )
});
static REMOVE_FIELD_ZH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:请)?(?:删除|删掉|移除|去掉)\s*(?P<object>[^\s，,的]+?)\s*的\s*(?P<field>[^\s，,]+?)\s*字段$",
    )
});
/// Words that join a request to an earlier one ("also add …", "再给客户添加…"): the
/// module's patch is extended either way.
static ALSO: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^(?:(?:and\s+)?also\s+|then\s+|另外[，,]?\s*|还要\s*|再\s*)"));
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

/// `loyaltyPoints` → `Loyalty points`; a run of capitals stays one word
/// (`shiFouVIP` → `Shi fou VIP`).
pub fn humanize(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        if i == 0 {
            out.extend(c.to_uppercase());
        } else if c == '_' {
            out.push(' ');
        } else if c.is_ascii_uppercase() {
            let in_run = prev.is_some_and(|p| p.is_ascii_uppercase())
                || next.is_some_and(|n| n.is_ascii_uppercase());
            if !prev.is_some_and(|p| p.is_ascii_uppercase()) {
                out.push(' ');
            }
            if in_run {
                out.push(c);
            } else {
                out.extend(c.to_lowercase());
            }
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

/// A Chinese name: the label as written, the identifier the one given in brackets,
/// else from the glossary when it knows every part of the name, else the name's
/// pinyin (`预计送达日期` → `yuJiSongDaRiQi`).
fn chinese_identifier(name: &str, given: Option<&str>) -> Result<String, NotUnderstood> {
    if let Some(id) = given {
        return Ok(id.to_owned());
    }
    english_words(name)
        .map(|w| spec::names::camel_from_words(&w))
        .filter(|id| spec::names::is_camel(id))
        .or_else(|| {
            pinyin_words(name)
                .map(|w| spec::names::camel_from_words(&w))
                .filter(|id| spec::names::is_camel(id))
        })
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
    // Split on separators outside brackets, "and" included.
    let mut items = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    let text = text.trim().trim_end_matches(['.', '。']);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        match c {
            '(' | '（' => depth += 1,
            ')' | '）' => depth -= 1,
            _ => {}
        }
        if depth == 0 && matches!(c, ',' | '，' | '、' | ';' | '；') {
            items.push(std::mem::take(&mut cur));
        } else if depth == 0
            && rest
                .get(..5)
                .is_some_and(|w| w.eq_ignore_ascii_case(" and "))
        {
            items.push(std::mem::take(&mut cur));
            rest = &rest[5..];
            continue;
        } else {
            cur.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    items.push(cur);
    let mut out = Vec::new();
    for item in items.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
        let item = item.strip_prefix("and ").unwrap_or(item);
        let c = ITEM
            .captures(item)
            .ok_or_else(|| NotUnderstood(format!("cannot read the field '{item}'")))?;
        static REFERS: LazyLock<Regex> = LazyLock::new(|| {
            re(
                r"(?i)^(?:(?:a\s+)?(?:reference|ref|link|lookup)s?\s+(?:to\s+)?|referencing\s+|pointing\s+to\s+|引用\s*|关联\s*|指向\s*)(?:the\s+)?(?P<o>[^\s]+)$",
            )
        });
        let attrs = c.name("attrs").map(|a| a.as_str()).unwrap_or("");
        let mut parts = list_of(attrs);
        let mut type_word = parts
            .iter()
            .find(|p| field_type(p).is_some())
            .cloned()
            .unwrap_or_else(|| "string".into());
        // `customer (reference to Customer)`, `客户（引用 客户）`.
        if let Some(i) = parts.iter().position(|p| REFERS.is_match(p)) {
            let target = REFERS.captures(&parts[i]).map(|c| c["o"].to_owned());
            if let Some(target) = target {
                type_word = "reference".into();
                parts[i] = format!("referencing {target}");
            }
        }
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
    let s = match ALSO.find(s) {
        Some(m) => &s[m.end()..],
        None => s,
    };
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
    if let Some(c) = MENU_EN
        .captures(s)
        .or_else(|| MENU_EN_PLAIN.captures(s))
        .or_else(|| MENU_ZH.captures(s))
    {
        let parent = c
            .name("parent")
            .or_else(|| c.name("parent2"))
            .map(|m| unquote(m.as_str()).to_owned());
        let page = c["page"].trim();
        let page = page
            .strip_suffix("列表")
            .or_else(|| page.strip_suffix(" list"))
            .unwrap_or(page);
        return Ok(Intent::AddMenu {
            label: unquote(&c["label"]).to_owned(),
            page: page.to_owned(),
            parent,
        });
    }
    if let Some(c) = SHOW_EN.captures(s) {
        return Ok(Intent::ListColumn {
            object: object_name(&c["object"], objects),
            field: c["field"].to_owned(),
            show: c.name("hide").is_none(),
        });
    }
    if let Some(c) = SHOW_ZH
        .captures(s)
        .or_else(|| SHOW_ZH_VERB_FIRST.captures(s))
    {
        let object = c.name("object").or_else(|| c.name("object2"));
        let field = c.name("field").or_else(|| c.name("field2"));
        if let (Some(object), Some(field)) = (object, field) {
            let verb = c
                .name("verb")
                .or_else(|| c.name("verb3"))
                .or_else(|| c.name("verb2"))
                .map_or("", |m| m.as_str());
            return Ok(Intent::ListColumn {
                object: object_name(object.as_str(), objects),
                field: field.as_str().to_owned(),
                show: !matches!(verb, "隐藏" | "去掉" | "移除" | "不显示"),
            });
        }
    }
    for pattern in [&*REQUIRED_EN, &*REQUIRED_ZH] {
        if let Some(c) = pattern.captures(s) {
            let what = c
                .name("what")
                .or_else(|| c.name("what2"))
                .map_or(String::new(), |m| m.as_str().to_lowercase());
            let change = match what.as_str() {
                "required" | "mandatory" | "必填" => FieldChange::Required(true),
                "unique" | "唯一" => FieldChange::Unique(true),
                "not unique" | "不唯一" => FieldChange::Unique(false),
                _ => FieldChange::Required(false),
            };
            let (object, field) = object_and_field(&c);
            return Ok(Intent::ChangeField {
                object: object_name(object, objects),
                field: field.to_owned(),
                change,
            });
        }
    }
    if let Some(c) = RENAME_EN.captures(s).or_else(|| RENAME_ZH.captures(s)) {
        let (object, field) = object_and_field(&c);
        return Ok(Intent::ChangeField {
            object: object_name(object, objects),
            field: field.to_owned(),
            change: FieldChange::Label(unquote(&c["label"]).to_owned()),
        });
    }
    if let Some(c) = VALUES_EN.captures(s).or_else(|| VALUES_ZH.captures(s)) {
        let (object, field) = object_and_field(&c);
        return Ok(Intent::ChangeField {
            object: object_name(object, objects),
            field: field.to_owned(),
            change: FieldChange::AddValues(list_of(&c["values"])),
        });
    }
    if let Some(c) = COLUMN_FIRST_EN
        .captures(s)
        .or_else(|| COLUMN_FIRST_ZH.captures(s))
    {
        let (object, field) = object_and_field(&c);
        return Ok(Intent::ColumnFirst {
            object: object_name(object, objects),
            field: field.to_owned(),
        });
    }
    if let Some(c) = REMOVE_FIELD_EN
        .captures(s)
        .or_else(|| REMOVE_FIELD_ZH.captures(s))
    {
        let (object, field) = object_and_field(&c);
        return Ok(Intent::RemoveField {
            object: object_name(object, objects),
            field: field.to_owned(),
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

/// The object and field of a match that names them as `Object.field`, `Object's
/// field` or `field on Object` (or the Chinese `客户的邮箱`).
fn object_and_field<'t>(c: &regex::Captures<'t>) -> (&'t str, &'t str) {
    let object = c
        .name("object")
        .or_else(|| c.name("object2"))
        .or_else(|| c.name("object3"));
    let field = c
        .name("field")
        .or_else(|| c.name("field2"))
        .or_else(|| c.name("field3"));
    (
        object.map_or("", |m| m.as_str()),
        field.map_or("", |m| m.as_str()),
    )
}

/// Splits a request into sentences.
pub fn sentences(request: &str) -> Vec<&str> {
    request
        .split(['\n', ';', '；', '。'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

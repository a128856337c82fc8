//! The scenario format (docs/testing.md), in YAML or JSON. A file holds one scenario or a
//! list of them; malformed ones are rejected naming the file, scenario, step and why.

use serde_json::{Map, Value};

/// What a step does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Create {
        object: String,
        data: Map<String, Value>,
    },
    Read {
        record: String,
    },
    Update {
        record: String,
        data: Map<String, Value>,
    },
    Delete {
        record: String,
    },
    List {
        object: String,
        filter: Map<String, Value>,
    },
    Transition {
        record: String,
        name: String,
    },
}

impl Action {
    pub fn verb(&self) -> &'static str {
        match self {
            Action::Create { .. } => "create",
            Action::Read { .. } => "read",
            Action::Update { .. } => "update",
            Action::Delete { .. } => "delete",
            Action::List { .. } => "list",
            Action::Transition { .. } => "transition",
        }
    }
}

/// The error a step must produce.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct ExpectError {
    pub code: String,
    pub field: Option<String>,
    pub rule: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub action: Action,
    /// Name the returned record for later steps (`${alias.field}`, `record: alias`).
    pub alias: Option<String>,
    /// Act as a business role instead of an administrator.
    pub as_role: Option<String>,
    /// Field values of the returned record, or `count` for a list.
    pub expect: Map<String, Value>,
    pub expect_error: Option<ExpectError>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    /// The object the scenario is about (for grouping and reports).
    pub object: String,
    pub steps: Vec<Step>,
    /// Where it came from (file name, or `module` for a patch's tests).
    pub source: String,
}

/// Why a scenario file cannot be read.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FormatError {
    pub file: String,
    pub scenario: Option<String>,
    /// 1-based.
    pub step: Option<usize>,
    pub reason: String,
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(s) = &self.scenario {
            write!(f, ": scenario '{s}'")?;
        }
        if let Some(n) = self.step {
            write!(f, ", step {n}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

const VERBS: [&str; 6] = ["create", "read", "update", "delete", "list", "transition"];
const STEP_KEYS: [&str; 5] = ["as", "as_role", "data", "expect", "expect_error"];

/// Reads a YAML or JSON document (JSON is YAML) holding a scenario or a list of them.
pub fn parse(file: &str, text: &str) -> Result<Vec<Scenario>, FormatError> {
    let err = |scenario: Option<&str>, step: Option<usize>, reason: String| FormatError {
        file: file.to_owned(),
        scenario: scenario.map(str::to_owned),
        step,
        reason,
    };
    let doc: Value = serde_norway::from_str(text)
        .map_err(|e| err(None, None, format!("not YAML or JSON: {e}")))?;
    let items = match doc {
        Value::Array(a) => a,
        v @ Value::Object(_) => vec![v],
        _ => {
            return Err(err(
                None,
                None,
                "expected a scenario or a list of scenarios".into(),
            ));
        }
    };
    items.iter().map(|v| from_value(file, v)).collect()
}

/// One scenario from JSON (a patch's `tests` hold these).
pub fn from_value(file: &str, v: &Value) -> Result<Scenario, FormatError> {
    let err = |scenario: Option<&str>, step: Option<usize>, reason: String| FormatError {
        file: file.to_owned(),
        scenario: scenario.map(str::to_owned),
        step,
        reason,
    };
    let m = v.as_object().ok_or_else(|| {
        err(
            None,
            None,
            "a scenario is a mapping with name, object and steps".into(),
        )
    })?;
    for k in m.keys() {
        if !["name", "object", "steps", "description"].contains(&k.as_str()) {
            return Err(err(
                m.get("name").and_then(Value::as_str),
                None,
                format!("unknown key '{k}'"),
            ));
        }
    }
    let name = m
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| err(None, None, "a scenario needs a name".into()))?;
    let object = m.get("object").and_then(Value::as_str).ok_or_else(|| {
        err(
            Some(name),
            None,
            "a scenario needs the object it is about".into(),
        )
    })?;
    let steps = m
        .get("steps")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            err(
                Some(name),
                None,
                "a scenario needs at least one step".into(),
            )
        })?;
    let mut out = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        out.push(step(s).map_err(|reason| err(Some(name), Some(i + 1), reason))?);
    }
    Ok(Scenario {
        name: name.to_owned(),
        object: object.to_owned(),
        steps: out,
        source: file.to_owned(),
    })
}

fn string(v: &Value, what: &str) -> Result<String, String> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{what} must be a string"))
}

fn map(v: Option<&Value>, what: &str) -> Result<Map<String, Value>, String> {
    match v {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(format!("{what} must be a mapping")),
    }
}

fn step(v: &Value) -> Result<Step, String> {
    let m = v
        .as_object()
        .ok_or("a step is a mapping like `create: Customer`")?;
    let verbs: Vec<&String> = m.keys().filter(|k| VERBS.contains(&k.as_str())).collect();
    let verb = match verbs.as_slice() {
        [one] => one.as_str(),
        [] => return Err(format!("a step needs one of {}", VERBS.join(", "))),
        _ => return Err("a step does one thing: more than one action given".into()),
    };
    for k in m.keys() {
        if !VERBS.contains(&k.as_str()) && !STEP_KEYS.contains(&k.as_str()) {
            return Err(format!(
                "unknown key '{k}' (known: {}, {})",
                VERBS.join(", "),
                STEP_KEYS.join(", ")
            ));
        }
    }
    let arg = &m[verb];
    let data = map(m.get("data"), "data")?;
    // `read: alias` or `read: { record: alias }`.
    let record_of = |a: &Value| -> Result<String, String> {
        match a {
            Value::String(s) => Ok(s.clone()),
            Value::Object(o) => string(o.get("record").unwrap_or(&Value::Null), "record"),
            _ => Err(format!("{verb} needs the alias of a record")),
        }
    };
    let action = match verb {
        "create" => Action::Create {
            object: string(arg, "create")?,
            data,
        },
        "read" => Action::Read {
            record: record_of(arg)?,
        },
        "delete" => Action::Delete {
            record: record_of(arg)?,
        },
        "update" => {
            let data = match arg.get("data") {
                Some(d) => map(Some(d), "update.data")?,
                None => data,
            };
            Action::Update {
                record: record_of(arg)?,
                data,
            }
        }
        "list" => match arg {
            Value::String(o) => Action::List {
                object: o.clone(),
                filter: Map::new(),
            },
            Value::Object(o) => Action::List {
                object: string(o.get("object").unwrap_or(&Value::Null), "list.object")?,
                filter: map(o.get("filter"), "list.filter")?,
            },
            _ => return Err("list needs an object".into()),
        },
        "transition" => {
            let o = arg.as_object().ok_or("transition needs { record, name }")?;
            Action::Transition {
                record: string(o.get("record").unwrap_or(&Value::Null), "transition.record")?,
                name: string(o.get("name").unwrap_or(&Value::Null), "transition.name")?,
            }
        }
        _ => unreachable!("verbs are listed"),
    };
    let expect_error = match m.get("expect_error") {
        None | Some(Value::Null) => None,
        Some(Value::Object(e)) => Some(ExpectError {
            code: string(e.get("code").unwrap_or(&Value::Null), "expect_error.code")?,
            field: e.get("field").and_then(Value::as_str).map(str::to_owned),
            rule: e.get("rule").and_then(Value::as_str).map(str::to_owned),
        }),
        Some(_) => return Err("expect_error must be a mapping with code (and field, rule)".into()),
    };
    let expect = map(m.get("expect"), "expect")?;
    if expect_error.is_some() && !expect.is_empty() {
        return Err("a step expects either values or an error, not both".into());
    }
    Ok(Step {
        action,
        alias: m.get("as").map(|a| string(a, "as")).transpose()?,
        as_role: m.get("as_role").map(|a| string(a, "as_role")).transpose()?,
        expect,
        expect_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_design_example_reads() {
        let yaml = r#"
name: order confirms and ships
object: Order
steps:
  - create: Customer
    as: acme
    data: { name: Acme, email: ops@acme.test }
  - create: Order
    as: o
    data: { customer: "${acme.id}", amount: "120.50", currency: CNY }
    expect: { status: draft }
  - transition: { record: o, name: confirm }
    expect: { status: confirmed }
  - update: { record: o, data: { amount: "-1" } }
    expect_error: { code: validation, field: amount }
"#;
        let s = parse("example.yaml", yaml).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].steps.len(), 4);
        assert_eq!(
            s[0].steps[2].action,
            Action::Transition {
                record: "o".into(),
                name: "confirm".into()
            }
        );
        assert_eq!(
            s[0].steps[3]
                .expect_error
                .as_ref()
                .unwrap()
                .field
                .as_deref(),
            Some("amount")
        );
    }

    #[test]
    fn malformed_scenarios_name_file_scenario_step_and_reason() {
        let e = parse(
            "x.yaml",
            "name: a\nobject: Order\nsteps:\n  - create: Order\n    frobnicate: 1\n",
        )
        .unwrap_err();
        assert_eq!((e.scenario.as_deref(), e.step), (Some("a"), Some(1)));
        assert!(e.reason.contains("frobnicate"), "{e}");
        let e = parse(
            "x.yaml",
            "name: a\nobject: Order\nsteps:\n  - read: o\n  - create: A\n    read: b\n",
        )
        .unwrap_err();
        assert_eq!(e.step, Some(2));
        assert!(
            parse("x.yaml", "name: a\nobject: Order\nsteps: []")
                .unwrap_err()
                .reason
                .contains("at least one step")
        );
        assert!(
            parse("x.yaml", "- steps: []")
                .unwrap_err()
                .reason
                .contains("name")
        );
        assert!(parse("x.yaml", ": : :").is_err());
        let e = parse("x.json", r#"{"name":"a","object":"O","steps":[{"update":{"record":"o"},"expect":{"a":1},"expect_error":{"code":"validation"}}]}"#).unwrap_err();
        assert!(e.reason.contains("either"), "{e}");
    }
}

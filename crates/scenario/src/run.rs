//! Running scenarios: each in its own sandbox (a fresh in-memory store) over the
//! candidate spec, checking every returned record against its object's JSON Schema,
//! and noting which coverage items each step exercised.

use crate::format::{Action, ExpectError, Scenario, Step};
use runtime::{Actor, Engine, FilterOp, ListQuery, MemoryStore, RuntimeError};
use serde::Serialize;
use serde_json::{Map, Value};
use spec::Spec;
use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;

#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    /// 1-based.
    pub index: usize,
    /// e.g. `create Customer as acme`.
    pub step: String,
    /// `passed`, `failed` or `skipped` (after an earlier failure).
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    pub name: String,
    pub object: String,
    pub source: String,
    /// `passed` or `failed`.
    pub status: &'static str,
    pub steps: Vec<StepResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip)]
    pub hits: BTreeSet<String>,
}

struct Sandbox<'a> {
    spec: &'a Spec,
    engine: Engine<'a, MemoryStore>,
    /// alias → (object, the record as last returned)
    records: HashMap<String, (String, Value)>,
    schemas: HashMap<String, jsonschema::Validator>,
    hits: BTreeSet<String>,
}

fn describe(step: &Step) -> String {
    let what = match &step.action {
        Action::Create { object, .. } => format!("create {object}"),
        Action::Read { record } => format!("read {record}"),
        Action::Update { record, .. } => format!("update {record}"),
        Action::Delete { record } => format!("delete {record}"),
        Action::List { object, .. } => format!("list {object}"),
        Action::Transition { record, name } => format!("transition {record} {name}"),
    };
    let mut s = what;
    if let Some(a) = &step.alias {
        s.push_str(&format!(" as {a}"));
    }
    if let Some(r) = &step.as_role {
        s.push_str(&format!(" (role {r})"));
    }
    s
}

/// `${alias.field}`: the whole string becomes the field's value (keeping its type);
/// inside a longer string, its text.
fn substitute(v: &Value, records: &HashMap<String, (String, Value)>) -> Result<Value, String> {
    match v {
        Value::String(s) if s.contains("${") => {
            let lookup = |expr: &str| -> Result<Value, String> {
                let (alias, field) = expr
                    .split_once('.')
                    .ok_or_else(|| format!("'${{{expr}}}' needs alias.field"))?;
                let (_, rec) = records
                    .get(alias)
                    .ok_or_else(|| format!("no record named '{alias}' yet"))?;
                rec.get(field)
                    .cloned()
                    .ok_or_else(|| format!("'{alias}' has no field '{field}'"))
            };
            if let Some(inner) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}'))
                && !inner.contains("${")
            {
                return lookup(inner);
            }
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(i) = rest.find("${") {
                out.push_str(&rest[..i]);
                let end = rest[i..].find('}').ok_or("unclosed ${")? + i;
                match lookup(&rest[i + 2..end])? {
                    Value::String(x) => out.push_str(&x),
                    other => out.push_str(&other.to_string()),
                }
                rest = &rest[end + 1..];
            }
            out.push_str(rest);
            Ok(Value::String(out))
        }
        Value::Object(m) => {
            let mut o = Map::new();
            for (k, x) in m {
                o.insert(k.clone(), substitute(x, records)?);
            }
            Ok(Value::Object(o))
        }
        Value::Array(a) => a
            .iter()
            .map(|x| substitute(x, records))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}

/// Values compare as written, except numbers and numeric strings, which compare as
/// exact decimals ("120.5" equals "120.50" and 120.5).
fn same(want: &Value, got: &Value) -> bool {
    if want == got {
        return true;
    }
    let dec = |v: &Value| match v {
        Value::Number(n) => rust_decimal::Decimal::from_str(&n.to_string()).ok(),
        Value::String(s) => rust_decimal::Decimal::from_str(s).ok(),
        _ => None,
    };
    matches!((dec(want), dec(got)), (Some(a), Some(b)) if a == b)
}

fn error_text(e: &RuntimeError) -> String {
    match e {
        RuntimeError::Validation(fields) => format!(
            "validation: {}",
            fields
                .iter()
                .map(|f| format!("{} {} ({})", f.field, f.rule, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => format!("{}: {other:?}", other.code()),
    }
}

impl<'a> Sandbox<'a> {
    fn check_schema(&mut self, object: &str, record: &Value) -> Result<(), String> {
        if !self.schemas.contains_key(object) {
            let schema = spec::record_schema(self.spec, object)
                .ok_or_else(|| format!("no schema for {object}"))?;
            let v = jsonschema::validator_for(&schema)
                .map_err(|e| format!("the schema of {object} does not compile: {e}"))?;
            self.schemas.insert(object.to_owned(), v);
        }
        let v = &self.schemas[object];
        match v.iter_errors(record).next() {
            None => Ok(()),
            Some(e) => Err(format!(
                "the record does not match {object}'s JSON Schema: {} at {}",
                e,
                e.instance_path()
            )),
        }
    }

    fn record(&self, alias: &str) -> Result<(String, String), String> {
        let (object, rec) = self
            .records
            .get(alias)
            .ok_or_else(|| format!("no record named '{alias}' yet"))?;
        let id = rec["id"].as_str().ok_or("the record has no id")?.to_owned();
        Ok((object.clone(), id))
    }

    fn hit_fields(&mut self, object: &str, data: &Map<String, Value>, direction: &str) {
        for k in data.keys() {
            self.hits.insert(format!("field:{object}.{k}.{direction}"));
        }
    }

    fn hit_constraints_pass(&mut self, object: &str, data: &Map<String, Value>) {
        let Some(def) = self.spec.objects.get(object) else {
            return;
        };
        for (k, v) in data {
            if v.is_null() {
                continue;
            }
            if let Some(f) = def.fields.get(k) {
                let fv = serde_json::to_value(f).unwrap_or(Value::Null);
                for rule in crate::coverage::constraint_rules(&fv) {
                    self.hits
                        .insert(format!("constraint:{object}.{k}.{rule}.pass"));
                }
            }
        }
    }

    fn hit_state(&mut self, object: &str, view: &Value) {
        if let Some(flow) = self
            .spec
            .objects
            .get(object)
            .and_then(|o| o.state_flow.as_ref())
            && let Some(s) = view.get(&flow.field).and_then(Value::as_str)
        {
            self.hits.insert(format!("state:{object}.{s}"));
        }
    }

    /// Runs one step and checks what it expects.
    async fn run(&mut self, step: &Step) -> Result<(), String> {
        let actor = match &step.as_role {
            Some(r) => Actor::with_roles("scenario", &[r.as_str()]),
            None => Actor::admin("scenario"),
        };
        let data_of = |d: &Map<String, Value>,
                       recs: &HashMap<String, (String, Value)>|
         -> Result<Map<String, Value>, String> {
            match substitute(&Value::Object(d.clone()), recs)? {
                Value::Object(m) => Ok(m),
                _ => unreachable!("a map substitutes to a map"),
            }
        };
        let (object, grant_action) = match &step.action {
            Action::Create { object, .. } => (object.clone(), "create".to_owned()),
            Action::List { object, .. } => (object.clone(), "read".to_owned()),
            Action::Read { record } => (self.record(record)?.0, "read".to_owned()),
            Action::Update { record, .. } => (self.record(record)?.0, "update".to_owned()),
            Action::Delete { record } => (self.record(record)?.0, "delete".to_owned()),
            Action::Transition { record, name } => {
                (self.record(record)?.0, format!("transition:{name}"))
            }
        };
        let outcome: Result<(Option<Value>, Option<u64>), RuntimeError> = match &step.action {
            Action::Create { object, data } => {
                let d = data_of(data, &self.records)?;
                let r = self.engine.create(&actor, object, &d).await;
                if r.is_ok() {
                    self.hit_fields(object, &d, "write");
                    self.hit_constraints_pass(object, &d);
                }
                r.map(|r| (Some(self.engine.view(&r)), None))
            }
            Action::Read { record } => {
                let (o, id) = self.record(record)?;
                self.engine
                    .get(&actor, &o, &id)
                    .await
                    .map(|r| (Some(self.engine.view(&r)), None))
            }
            Action::Update { record, data } => {
                let (o, id) = self.record(record)?;
                let d = data_of(data, &self.records)?;
                let r = self.engine.update(&actor, &o, &id, &d, None).await;
                if r.is_ok() {
                    self.hit_fields(&o, &d, "write");
                    self.hit_constraints_pass(&o, &d);
                }
                r.map(|r| (Some(self.engine.view(&r)), None))
            }
            Action::Delete { record } => {
                let (o, id) = self.record(record)?;
                self.engine
                    .delete(&actor, &o, &id, None)
                    .await
                    .map(|_| (None, None))
            }
            Action::Transition { record, name } => {
                let (o, id) = self.record(record)?;
                let r = self.engine.transition(&actor, &o, &id, name, None).await;
                if r.is_ok() {
                    self.hits.insert(format!("transition:{o}.{name}"));
                }
                r.map(|r| (Some(self.engine.view(&r)), None))
            }
            Action::List { object, filter } => {
                let f = data_of(filter, &self.records)?;
                let mut q = ListQuery::default();
                let mut bad = None;
                for (field, value) in &f {
                    match self
                        .engine
                        .filter(object, field, FilterOp::Eq, value.clone())
                    {
                        Ok(x) => q.filters.push(x),
                        Err(e) => bad = Some(e),
                    }
                }
                match bad {
                    Some(e) => Err(e),
                    None => match self.engine.list(&actor, object, &q).await {
                        Ok(page) => {
                            for item in &page.items {
                                let view = self.engine.view(item);
                                self.check_schema(object, &view)?;
                                if let Some(m) = view.as_object() {
                                    let keys: Map<String, Value> =
                                        m.iter().map(|(k, _)| (k.clone(), Value::Null)).collect();
                                    self.hit_fields(object, &keys, "read");
                                }
                            }
                            Ok((None, Some(page.total)))
                        }
                        Err(e) => Err(e),
                    },
                }
            }
        };
        let verb = step.action.verb();
        match (outcome, &step.expect_error) {
            (Ok((record, count)), None) => {
                self.hits.insert(format!("object:{object}.{verb}"));
                if let Some(role) = &step.as_role {
                    self.hits
                        .insert(format!("grant:{role}.{object}.{grant_action}.allowed"));
                    if grant_action.starts_with("transition:") {
                        self.hits
                            .insert(format!("grant:{role}.{object}.transition:*.allowed"));
                    }
                }
                if let Some(view) = &record {
                    self.check_schema(&object, view)?;
                    self.hit_state(&object, view);
                    if verb == "read" {
                        let keys: Map<String, Value> = view
                            .as_object()
                            .into_iter()
                            .flatten()
                            .map(|(k, _)| (k.clone(), Value::Null))
                            .collect();
                        self.hit_fields(&object, &keys, "read");
                    }
                }
                for (k, want) in &step.expect {
                    if k == "count" && verb == "list" {
                        let got = count.unwrap_or(0);
                        if !same(want, &Value::from(got)) {
                            return Err(format!("expected count {want}, got {got}"));
                        }
                        continue;
                    }
                    let got = record
                        .as_ref()
                        .and_then(|r| r.get(k))
                        .cloned()
                        .unwrap_or(Value::Null);
                    if !same(want, &got) {
                        return Err(format!("expected {k} = {want}, got {got}"));
                    }
                }
                if let (Some(alias), Some(view)) = (&step.alias, record) {
                    self.records.insert(alias.clone(), (object, view));
                }
                Ok(())
            }
            (Ok(_), Some(e)) => Err(format!(
                "expected error {} but the step succeeded",
                show_expect(e)
            )),
            (Err(err), None) => Err(format!("unexpected error: {}", error_text(&err))),
            (Err(err), Some(want)) => {
                if err.code() != want.code {
                    return Err(format!(
                        "expected error {}, got {}",
                        show_expect(want),
                        error_text(&err)
                    ));
                }
                if let RuntimeError::Validation(fields) = &err {
                    let hit: Vec<_> = fields
                        .iter()
                        .filter(|f| {
                            want.field.as_ref().is_none_or(|w| *w == f.field)
                                && want.rule.as_ref().is_none_or(|w| *w == f.rule)
                        })
                        .collect();
                    if hit.is_empty() {
                        return Err(format!(
                            "expected error {}, got {}",
                            show_expect(want),
                            error_text(&err)
                        ));
                    }
                    for f in hit {
                        self.hits
                            .insert(format!("constraint:{object}.{}.{}.fail", f.field, f.rule));
                    }
                }
                if err.code() == "forbidden"
                    && let Some(role) = &step.as_role
                {
                    self.hits.insert(format!("grant:{role}.{object}.denied"));
                }
                Ok(())
            }
        }
    }
}

fn show_expect(e: &ExpectError) -> String {
    let mut s = e.code.clone();
    if let Some(f) = &e.field {
        s.push_str(&format!(" on {f}"));
    }
    if let Some(r) = &e.rule {
        s.push_str(&format!(" ({r})"));
    }
    s
}

/// Runs one scenario in a fresh sandbox.
pub async fn run_scenario(spec: &Spec, scenario: &Scenario) -> ScenarioResult {
    let store = MemoryStore::new();
    let mut sb = Sandbox {
        spec,
        engine: Engine::new(spec, &store),
        records: HashMap::new(),
        schemas: HashMap::new(),
        hits: BTreeSet::new(),
    };
    let mut steps = Vec::new();
    let mut failure: Option<String> = None;
    for (i, step) in scenario.steps.iter().enumerate() {
        if failure.is_some() {
            steps.push(StepResult {
                index: i + 1,
                step: describe(step),
                status: "skipped",
                error: None,
            });
            continue;
        }
        // Updates and transitions refresh the alias, so later `${o.version}` is current.
        let result = sb.run(step).await;
        match result {
            Ok(()) => {
                if step.alias.is_none()
                    && let Action::Update { record, .. } | Action::Transition { record, .. } =
                        &step.action
                    && let Ok((o, id)) = sb.record(record)
                    && let Ok(r) = sb.engine.get(&Actor::admin("scenario"), &o, &id).await
                {
                    let view = sb.engine.view(&r);
                    sb.records.insert(record.clone(), (o, view));
                }
                steps.push(StepResult {
                    index: i + 1,
                    step: describe(step),
                    status: "passed",
                    error: None,
                });
            }
            Err(e) => {
                failure = Some(format!("step {}: {e}", i + 1));
                steps.push(StepResult {
                    index: i + 1,
                    step: describe(step),
                    status: "failed",
                    error: Some(e),
                });
            }
        }
    }
    ScenarioResult {
        name: scenario.name.clone(),
        object: scenario.object.clone(),
        source: scenario.source.clone(),
        status: if failure.is_some() {
            "failed"
        } else {
            "passed"
        },
        steps,
        error: failure,
        hits: sb.hits,
    }
}

/// Pages and menu items count as exercised when their object was used the way the
/// page shows it: a list page by a list, a form by a create or update, a detail page
/// by a read. (Their definitions are checked against the spec by the integrity check.)
pub fn page_hits(spec: &Spec, hits: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (id, page) in &spec.pages {
        let o = page.object();
        let needed: &[&str] = match page.kind() {
            "list" => &["list"],
            "form" => &["create", "update"],
            _ => &["read"],
        };
        if needed
            .iter()
            .any(|v| hits.contains(&format!("object:{o}.{v}")))
        {
            out.insert(format!("page:{id}"));
        }
    }
    out
}

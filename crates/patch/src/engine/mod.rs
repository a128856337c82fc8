//! Runs a patch's operations in order on a copy of the spec. Each operation checks
//! its target and preconditions, computes its effect, and only then changes the copy;
//! a failed operation changes nothing and the next one is still checked, so one pass
//! reports every independent problem. References between things are checked once, on
//! the final spec, because operations may build on each other in any order.

mod compare;
mod menu;
mod object;
mod page;
mod permission;
mod state;

use crate::Validation;
use crate::diff::{Change, ChangeAction};
use crate::document::{OpKind, Operation, PatchDocument, Scope, Target};
use crate::level::Level;
use crate::report::{Issue, OpSummary, Report};
use serde::de::DeserializeOwned;
use spec::{Code, Grant, Spec};

/// What an operation did.
pub(crate) struct Effect {
    pub level: Level,
    pub summary: String,
    pub changes: Vec<Change>,
    pub warnings: Vec<(&'static str, String)>,
    /// Spec entities the operation touched (`/objects/X`, `/pages/p`, `/roles/r`,
    /// `/menus`), to attribute problems of the final spec to an operation.
    pub touched: Vec<String>,
}

impl Effect {
    pub fn new(level: Level, summary: String) -> Effect {
        Effect {
            level,
            summary,
            changes: Vec::new(),
            warnings: Vec::new(),
            touched: Vec::new(),
        }
    }

    pub fn change(
        mut self,
        i: usize,
        action: ChangeAction,
        kind: &str,
        name: String,
        path: String,
    ) -> Effect {
        let entity = entity_of(&path);
        if !self.touched.contains(&entity) {
            self.touched.push(entity);
        }
        self.changes.push(Change {
            op: i,
            action,
            kind: kind.to_owned(),
            name,
            path,
        });
        self
    }

    pub fn warn(mut self, code: &'static str, message: String) -> Effect {
        self.warnings.push((code, message));
        self
    }
}

/// The first two segments of a spec pointer: the entity a path belongs to.
fn entity_of(path: &str) -> String {
    let mut parts = path.splitn(4, '/');
    let _ = parts.next();
    match (parts.next(), parts.next()) {
        (Some("menus"), _) => "/menus".to_owned(),
        (Some(a), Some(b)) => format!("/{a}/{b}"),
        (Some(a), None) => format!("/{a}"),
        _ => String::new(),
    }
}

/// Escapes a JSON pointer segment.
pub(crate) fn seg(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// One operation being checked, with helpers that build its errors.
pub(crate) struct Op<'a> {
    pub i: usize,
    pub op: &'a Operation,
    /// The spec before the patch: "existing" data lives only in what it describes.
    pub original: &'a Spec,
}

/// Codes that block a patch whatever else it does.
fn is_blocking(code: Code) -> bool {
    matches!(
        code,
        Code::SystemField
            | Code::PermissionEscalation
            | Code::Protected
            | Code::Limit
            | Code::TypeChange
    )
}

impl Op<'_> {
    /// The level an operation has by its kind alone: every remove and every
    /// permission change needs confirmation.
    pub fn base_level(&self) -> Level {
        if self.op.scope == Scope::Permission || self.op.op == OpKind::Remove {
            Level::L2
        } else {
            Level::L1
        }
    }

    pub fn path(&self, sub: &str) -> String {
        format!("/operations/{}{sub}", self.i)
    }

    pub fn err(&self, code: Code, sub: &str, message: impl Into<String>) -> Issue {
        let level = if is_blocking(code) {
            Level::L3
        } else {
            self.base_level()
        };
        Issue::error(code, Some(self.i), self.path(sub), level, message)
    }

    /// The operation's value as `T`, or an `E_SCHEMA` error pointing into it.
    pub fn value<T: DeserializeOwned>(&self, what: &str) -> Result<T, Issue> {
        let Some(v) = &self.op.value else {
            return Err(self.err(
                Code::Schema,
                "/value",
                format!(
                    "{} {} needs a value: {what}",
                    self.op.scope.as_str(),
                    self.op.op.as_str()
                ),
            ));
        };
        serde_path_to_error::deserialize(v).map_err(|e| {
            self.err(
                Code::Schema,
                &format!("/value{}", spec::json_pointer(e.path())),
                format!("value is not {what}: {}", e.inner()),
            )
        })
    }

    /// The raw value, required.
    pub fn raw_value(&self, what: &str) -> Result<&serde_json::Value, Issue> {
        self.op.value.as_ref().ok_or_else(|| {
            self.err(
                Code::Schema,
                "/value",
                format!(
                    "{} {} needs a value: {what}",
                    self.op.scope.as_str(),
                    self.op.op.as_str()
                ),
            )
        })
    }

    /// Refuses a value where none belongs.
    pub fn no_value(&self) -> Result<(), Issue> {
        match &self.op.value {
            None => Ok(()),
            Some(_) => Err(self.err(
                Code::Schema,
                "/value",
                format!(
                    "{} {} takes no value",
                    self.op.scope.as_str(),
                    self.op.op.as_str()
                ),
            )),
        }
    }

    /// Checks that the target has exactly the allowed keys for this scope.
    pub fn target_shape(&self, shapes: &[&[&str]]) -> Result<(), Issue> {
        let t = &self.op.target;
        let present: Vec<&str> = [
            ("object", &t.object),
            ("field", &t.field),
            ("state", &t.state),
            ("transition", &t.transition),
            ("page", &t.page),
            ("list", &t.list),
            ("role", &t.role),
            ("menu", &t.menu),
        ]
        .into_iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| k)
        .collect();
        if shapes
            .iter()
            .any(|s| s.len() == present.len() && s.iter().all(|k| present.contains(k)))
        {
            return Ok(());
        }
        let expected: Vec<String> = shapes
            .iter()
            .map(|s| format!("{{{}}}", s.join(", ")))
            .collect();
        Err(self.err(
            Code::Schema,
            "/target",
            format!(
                "a {} operation targets {}; this target has {{{}}}",
                self.op.scope.as_str(),
                expected.join(" or "),
                present.join(", ")
            ),
        ))
    }

    pub fn not_allowed(&self, what: &str) -> Issue {
        self.err(
            Code::OpNotAllowed,
            "/op",
            format!("'{}' is not allowed on {what}", self.op.op.as_str()),
        )
    }

    /// Merge-patches `current` with the operation's value (RFC 7396) and reads the result.
    pub fn merged<T: serde::Serialize + DeserializeOwned>(
        &self,
        current: &T,
        what: &str,
    ) -> Result<T, Issue> {
        let patch = self.raw_value("a JSON Merge Patch")?;
        if !patch.is_object() {
            return Err(self.err(
                Code::Schema,
                "/value",
                format!("update takes a JSON object (a merge patch) for {what}"),
            ));
        }
        let mut doc = serde_json::to_value(current).expect("spec parts serialise");
        json_patch::merge(&mut doc, patch);
        serde_path_to_error::deserialize(&doc).map_err(|e| {
            self.err(
                Code::Schema,
                &format!("/value{}", spec::json_pointer(e.path())),
                format!("after the merge, {what} is not valid: {}", e.inner()),
            )
        })
    }
}

struct Engine<'a> {
    original: &'a Spec,
    spec: Spec,
}

impl Engine<'_> {
    fn apply(&mut self, i: usize, op: &Operation) -> Result<Effect, Issue> {
        let o = Op {
            i,
            op,
            original: self.original,
        };
        match op.scope {
            Scope::Object => object::apply(&o, &mut self.spec),
            Scope::State => state::apply(&o, &mut self.spec),
            Scope::Page => page::apply(&o, &mut self.spec),
            Scope::Permission => permission::apply(&o, &mut self.spec),
            Scope::Menu => menu::apply(&o, &mut self.spec),
        }
    }
}

/// A short description of an operation, for summaries of failed ones.
fn describe(op: &Operation) -> String {
    let t = &op.target;
    let o = t.object.as_deref().unwrap_or("?");
    let what = match (op.scope, t) {
        (Scope::Object, Target { field: Some(f), .. }) => format!("field {o}.{f}"),
        (Scope::Object, _) => format!("object {o}"),
        (Scope::State, Target { state: Some(s), .. }) => format!("state {o}.{s}"),
        (
            Scope::State,
            Target {
                transition: Some(tr),
                ..
            },
        ) => format!("transition {o}.{tr}"),
        (Scope::State, _) => format!("the state flow of {o}"),
        (Scope::Page, Target { list: Some(l), .. }) => {
            format!("{l} of page {}", t.page.as_deref().unwrap_or("?"))
        }
        (Scope::Page, _) => format!("page {}", t.page.as_deref().unwrap_or("?")),
        (
            Scope::Permission,
            Target {
                object: Some(obj), ..
            },
        ) => format!("grants of {} on {obj}", t.role.as_deref().unwrap_or("?")),
        (Scope::Permission, _) => format!("role {}", t.role.as_deref().unwrap_or("?")),
        (Scope::Menu, _) => format!("menu item {}", t.menu.as_deref().unwrap_or("?")),
    };
    format!("{} {what}", op.op.as_str())
}

pub(crate) fn run(original: &Spec, doc: &PatchDocument) -> Validation {
    let mut eng = Engine {
        original,
        spec: original.clone(),
    };
    let mut errors: Vec<Issue> = Vec::new();
    let mut warnings: Vec<Issue> = Vec::new();
    let mut operations = Vec::new();
    let mut changes = Vec::new();
    let mut touched: Vec<(usize, Vec<String>)> = Vec::new();
    for (i, op) in doc.operations.iter().enumerate() {
        match eng.apply(i, op) {
            Ok(effect) => {
                operations.push(OpSummary {
                    op: i,
                    level: effect.level,
                    summary: effect.summary,
                });
                for (code, message) in effect.warnings {
                    warnings.push(Issue {
                        code: code.to_owned(),
                        op: Some(i),
                        path: format!("/operations/{i}"),
                        level: effect.level,
                        message,
                    });
                }
                changes.extend(effect.changes);
                touched.push((i, effect.touched));
            }
            Err(issue) => {
                operations.push(OpSummary {
                    op: i,
                    level: issue.level,
                    summary: describe(op),
                });
                errors.push(issue);
            }
        }
    }
    if errors.is_empty() {
        errors.extend(final_checks(original, &eng.spec, &touched, &operations));
    }
    let level = operations
        .iter()
        .map(|o| o.level)
        .chain(errors.iter().map(|e| e.level))
        .max()
        .unwrap_or_default();
    let valid = errors.is_empty();
    let report = Report {
        valid,
        level,
        errors,
        warnings,
        operations,
    };
    if valid {
        Validation {
            report,
            spec: Some(eng.spec),
            changes,
        }
    } else {
        Validation {
            report,
            spec: None,
            changes: Vec::new(),
        }
    }
}

/// The operation that most likely caused a problem at `path` (message as a hint).
fn attribute(path: &str, message: &str, touched: &[(usize, Vec<String>)]) -> Option<usize> {
    let entity = entity_of(path);
    touched
        .iter()
        .rev()
        .find(|(_, t)| t.contains(&entity))
        .or_else(|| {
            touched.iter().rev().find(|(_, t)| {
                t.iter().any(|e| {
                    e.rsplit('/').next().is_some_and(|name| {
                        !name.is_empty()
                            && message
                                .split(|c: char| {
                                    !(c.is_alphanumeric() || c == '.' || c == '-' || c == '_')
                                })
                                .any(|w| w == name)
                    })
                })
            })
        })
        .map(|(i, _)| *i)
}

/// Integrity of the resulting spec, and rules that depend on the whole of it.
fn final_checks(
    original: &Spec,
    after: &Spec,
    touched: &[(usize, Vec<String>)],
    ops: &[OpSummary],
) -> Vec<Issue> {
    let level_of = |op: Option<usize>| {
        op.and_then(|i| ops.get(i))
            .map(|o| o.level)
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for v in spec::check(after) {
        let op = attribute(&v.path, &v.message, touched);
        let level = if is_blocking(v.code) {
            Level::L3
        } else {
            level_of(op)
        };
        out.push(Issue::error(
            v.code,
            op,
            format!("/spec{}", v.path),
            level,
            format!("after the patch: {}", v.message),
        ));
    }
    // Granting delete on an immutable object (or making an object with delete grants
    // immutable) lets someone erase ledger entries.
    for (role, def) in &after.roles {
        for (obj, grants) in &def.grants {
            let immutable = after.objects.get(obj).is_some_and(|o| o.immutable);
            if !immutable || !grants.contains(&Grant::Delete) {
                continue;
            }
            let before = original
                .roles
                .get(role)
                .and_then(|r| r.grants.get(obj))
                .is_some_and(|g| g.contains(&Grant::Delete))
                && original.objects.get(obj).is_some_and(|o| o.immutable);
            if before {
                continue;
            }
            let path = format!("/roles/{}/grants/{}", seg(role), seg(obj));
            let op = attribute(&path, &format!("'{obj}'"), touched)
                .or_else(|| attribute(&format!("/objects/{}", seg(obj)), "", touched));
            out.push(Issue::error(
                Code::Protected,
                op,
                format!("/spec{path}"),
                Level::L3,
                format!("role {role} may not delete {obj}: {obj} is immutable (a ledger); correct entries by reversal"),
            ));
        }
    }
    out
}

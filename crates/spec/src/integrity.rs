//! Whole-spec integrity: every name well-formed, every reference resolved, every
//! constraint combination meaningful. A spec that passes can be run.

use crate::names::{self, did_you_mean, is_camel, is_dotted, is_pascal, is_system_field};
use crate::value;
use crate::{Code, FieldDef, FieldType, Labels, MenuNode, ObjectDef, OnDelete, PageDef, Spec};
use serde::Serialize;
use std::collections::BTreeSet;

/// One problem in a spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub code: Code,
    /// JSON pointer into the spec.
    pub path: String,
    pub message: String,
}

/// Escapes one JSON pointer segment.
pub(crate) fn seg(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

struct Checker<'a> {
    spec: &'a Spec,
    out: Vec<Violation>,
}

impl Checker<'_> {
    fn push(&mut self, code: Code, path: String, message: String) {
        self.out.push(Violation {
            code,
            path,
            message,
        });
    }

    fn object_names(&self) -> impl Iterator<Item = &str> {
        self.spec.objects.keys().map(String::as_str)
    }

    /// Whether `field` names something a page can show on `object`.
    fn resolves(&self, obj: &ObjectDef, field: &str) -> bool {
        obj.fields.contains_key(field)
            || is_system_field(field)
            || obj.state_flow.as_ref().is_some_and(|f| f.field == field)
    }

    fn field_candidates(obj: &ObjectDef) -> Vec<&str> {
        let mut c: Vec<&str> = obj.fields.keys().map(String::as_str).collect();
        c.extend(names::SYSTEM_FIELDS);
        if let Some(f) = &obj.state_flow {
            c.push(&f.field);
        }
        c
    }

    fn check_field(&mut self, obj_name: &str, name: &str, f: &FieldDef) {
        let path = format!("/objects/{}/fields/{}", seg(obj_name), seg(name));
        if is_system_field(name) {
            self.push(
                Code::SystemField,
                path.clone(),
                format!("field '{name}' of {obj_name} is a system field; the platform manages it"),
            );
        } else if !is_camel(name) {
            self.push(
                Code::InvalidName,
                path.clone(),
                format!(
                    "field name '{name}' of {obj_name} must be {}",
                    names::CAMEL_RULE
                ),
            );
        }
        let ty = f.ty;
        let mut bad = |what: &str, applies: &str| {
            self.out.push(Violation {
                code: Code::FieldType,
                path: format!("{path}/{what}"),
                message: format!("{what} does not apply to {ty} fields ({obj_name}.{name}); it applies to {applies}"),
            });
        };
        if !ty.is_numeric() {
            if f.min.is_some() {
                bad("min", "integer and decimal fields");
            }
            if f.max.is_some() {
                bad("max", "integer and decimal fields");
            }
        }
        if ty != FieldType::Decimal && f.scale.is_some() {
            bad("scale", "decimal fields");
        }
        if !ty.is_textual() {
            if f.min_length.is_some() {
                bad("minLength", "text fields");
            }
            if f.max_length.is_some() {
                bad("maxLength", "text fields");
            }
            if f.pattern.is_some() {
                bad("pattern", "text fields");
            }
        }
        if ty != FieldType::Enum && f.values.is_some() {
            bad("values", "enum fields");
        }
        if ty != FieldType::Reference {
            if f.object.is_some() {
                bad("object", "reference fields");
            }
            if f.on_delete.is_some() {
                bad("onDelete", "reference fields");
            }
        }
        let ft = |this: &mut Self, sub: &str, msg: String| {
            this.push(Code::FieldType, format!("{path}{sub}"), msg)
        };
        if let (Some(min), Some(max)) = (
            f.min.as_ref().and_then(value::bound),
            f.max.as_ref().and_then(value::bound),
        ) && min > max
        {
            ft(
                self,
                "/min",
                format!("min {min} is greater than max {max} ({obj_name}.{name})"),
            );
        }
        for (k, v) in [("min", &f.min), ("max", &f.max)] {
            if let Some(n) = v
                && value::bound(n).is_none()
            {
                ft(
                    self,
                    &format!("/{k}"),
                    format!(
                        "{k} of {obj_name}.{name} is not a number this platform can compare exactly"
                    ),
                );
            }
        }
        if let Some(s) = f.scale
            && !(0..=18).contains(&s)
        {
            ft(
                self,
                "/scale",
                format!("scale of {obj_name}.{name} must be between 0 and 18, not {s}"),
            );
        }
        if let Some(n) = f.min_length
            && n < 0
        {
            ft(
                self,
                "/minLength",
                format!("minLength of {obj_name}.{name} must not be negative"),
            );
        }
        if let Some(n) = f.max_length
            && n < 1
        {
            ft(
                self,
                "/maxLength",
                format!("maxLength of {obj_name}.{name} must be at least 1"),
            );
        }
        if let (Some(a), Some(b)) = (f.min_length, f.max_length)
            && a > b
        {
            ft(
                self,
                "/minLength",
                format!("minLength {a} is greater than maxLength {b} ({obj_name}.{name})"),
            );
        }
        if let Some(p) = &f.pattern
            && let Err(e) = regex::Regex::new(&format!("^(?:{p})$"))
        {
            let first = e.to_string().lines().last().unwrap_or_default().to_owned();
            ft(
                self,
                "/pattern",
                format!("pattern of {obj_name}.{name} does not compile: {first}"),
            );
        }
        if ty == FieldType::Enum {
            match &f.values {
                None => ft(
                    self,
                    "",
                    format!("enum field {obj_name}.{name} needs 'values'"),
                ),
                Some(vs) if vs.is_empty() => ft(
                    self,
                    "/values",
                    format!("enum field {obj_name}.{name} needs at least one value"),
                ),
                Some(vs) => {
                    let mut seen = BTreeSet::new();
                    for (i, v) in vs.iter().enumerate() {
                        if v.is_empty() || v.len() > names::MAX_NAME {
                            ft(
                                self,
                                &format!("/values/{i}"),
                                format!(
                                    "enum values of {obj_name}.{name} must be 1 to 64 characters"
                                ),
                            );
                        } else if !seen.insert(v) {
                            ft(
                                self,
                                &format!("/values/{i}"),
                                format!("enum value '{v}' of {obj_name}.{name} is listed twice"),
                            );
                        }
                    }
                }
            }
        }
        if ty == FieldType::Reference {
            match &f.object {
                None => ft(
                    self,
                    "",
                    format!("reference field {obj_name}.{name} needs 'object'"),
                ),
                Some(target) if !self.spec.objects.contains_key(target) => {
                    let hint = did_you_mean(target, self.object_names());
                    self.push(
                        Code::Reference,
                        format!("{path}/object"),
                        format!("{obj_name}.{name} references unknown object '{target}'{hint}"),
                    );
                }
                Some(_) => {}
            }
            if f.on_delete == Some(OnDelete::SetNull) && f.required {
                ft(
                    self,
                    "/onDelete",
                    format!("{obj_name}.{name} is required, so onDelete cannot be setNull"),
                );
            }
            if f.default.is_some() {
                ft(
                    self,
                    "/default",
                    format!("reference field {obj_name}.{name} cannot have a default"),
                );
            }
        }
        if !f.value_labels.is_empty() {
            if ty != FieldType::Enum {
                ft(
                    self,
                    "/valueLabels",
                    format!("valueLabels apply to enum fields ({obj_name}.{name})"),
                );
            } else if let Some(v) = f
                .value_labels
                .keys()
                .find(|v| !f.values.as_ref().is_some_and(|vs| vs.contains(v)))
            {
                ft(
                    self,
                    &format!("/valueLabels/{}", seg(v)),
                    format!(
                        "valueLabels of {obj_name}.{name} name '{v}', which is not one of its values"
                    ),
                );
            }
        }
        if let Some(a) = &f.auto_number {
            let sample = a.format(1);
            if ty != FieldType::String {
                ft(
                    self,
                    "/autoNumber",
                    format!("autoNumber applies to string fields ({obj_name}.{name} is {ty})"),
                );
            } else if !(1..=18).contains(&a.digits) {
                ft(
                    self,
                    "/autoNumber/digits",
                    format!("autoNumber digits of {obj_name}.{name} must be between 1 and 18"),
                );
            } else if a.prefix.chars().count() > 16 || a.prefix.chars().any(char::is_whitespace) {
                ft(
                    self,
                    "/autoNumber/prefix",
                    format!(
                        "the autoNumber prefix of {obj_name}.{name} must be at most 16 characters without spaces"
                    ),
                );
            } else if f.default.is_some() {
                ft(
                    self,
                    "/default",
                    format!(
                        "{obj_name}.{name} is numbered automatically, so it cannot have a default"
                    ),
                );
            } else if let Err(e) = value::check(f, &serde_json::Value::String(sample.clone())) {
                ft(
                    self,
                    "/autoNumber",
                    format!(
                        "the numbers of {obj_name}.{name} (e.g. '{sample}') would be invalid: {}",
                        e.message
                    ),
                );
            }
        }
        if f.unique && matches!(ty, FieldType::Boolean | FieldType::Json) {
            ft(
                self,
                "/unique",
                format!("{ty} fields cannot be unique ({obj_name}.{name})"),
            );
        }
        if let Some(d) = &f.default
            && !d.is_null()
            && ty != FieldType::Reference
            && let Err(e) = value::check(f, d)
        {
            ft(
                self,
                "/default",
                format!("default of {obj_name}.{name} is invalid: {}", e.message),
            );
        }
    }

    fn check_object(&mut self, name: &str, obj: &ObjectDef) {
        let path = format!("/objects/{}", seg(name));
        if !is_pascal(name) {
            self.push(
                Code::InvalidName,
                path.clone(),
                format!("object name '{name}' must be {}", names::PASCAL_RULE),
            );
        }
        if obj.label.trim().is_empty() {
            self.push(
                Code::InvalidName,
                format!("{path}/label"),
                format!("object {name} needs a label"),
            );
        }
        for (fname, f) in &obj.fields {
            self.check_field(name, fname, f);
        }
        if let Some(t) = &obj.title_field {
            match obj.fields.get(t) {
                None => self.push(
                    Code::UnknownField,
                    format!("{path}/titleField"),
                    format!("titleField of {name} names '{t}', which is not one of its fields"),
                ),
                Some(f) if !(f.ty.is_textual() || f.ty == FieldType::Enum) => self.push(
                    Code::FieldType,
                    format!("{path}/titleField"),
                    format!(
                        "titleField of {name} must be a text field; '{t}' is {:?}",
                        f.ty
                    ),
                ),
                Some(_) => {}
            }
        }
        let Some(flow) = &obj.state_flow else { return };
        let fp = format!("{path}/stateFlow");
        if is_system_field(&flow.field) {
            self.push(
                Code::SystemField,
                format!("{fp}/field"),
                format!(
                    "the state field of {name} cannot be the system field '{}'",
                    flow.field
                ),
            );
        } else if !is_camel(&flow.field) {
            self.push(
                Code::InvalidName,
                format!("{fp}/field"),
                format!(
                    "state field '{}' of {name} must be {}",
                    flow.field,
                    names::CAMEL_RULE
                ),
            );
        } else if obj.fields.contains_key(&flow.field) {
            self.push(
                Code::AlreadyExists,
                format!("{fp}/field"),
                format!(
                    "'{}' of {name} is both a field and the state field",
                    flow.field
                ),
            );
        }
        if flow.states.is_empty() {
            self.push(
                Code::Reference,
                format!("{fp}/states"),
                format!("the state flow of {name} has no states"),
            );
        }
        let states = || flow.states.keys().map(String::as_str);
        for s in flow.states.keys() {
            if !is_camel(s) {
                self.push(
                    Code::InvalidName,
                    format!("{fp}/states/{}", seg(s)),
                    format!("state name '{s}' of {name} must be {}", names::CAMEL_RULE),
                );
            }
        }
        if !flow.states.contains_key(&flow.initial) && !flow.states.is_empty() {
            let hint = did_you_mean(&flow.initial, states());
            self.push(
                Code::Reference,
                format!("{fp}/initial"),
                format!(
                    "initial state '{}' of {name} is not one of its states{hint}",
                    flow.initial
                ),
            );
        }
        for (tname, t) in &flow.transitions {
            let tp = format!("{fp}/transitions/{}", seg(tname));
            if !is_camel(tname) {
                self.push(
                    Code::InvalidName,
                    tp.clone(),
                    format!(
                        "transition name '{tname}' of {name} must be {}",
                        names::CAMEL_RULE
                    ),
                );
            }
            if t.from.is_empty() {
                self.push(
                    Code::Reference,
                    format!("{tp}/from"),
                    format!("transition {name}.{tname} starts from no state"),
                );
            }
            for (i, s) in t.from.iter().enumerate() {
                match flow.states.get(s) {
                    None => {
                        let hint = did_you_mean(s, states());
                        self.push(
                            Code::Reference,
                            format!("{tp}/from/{i}"),
                            format!(
                                "transition {name}.{tname} starts from unknown state '{s}'{hint}"
                            ),
                        );
                    }
                    Some(st) if st.is_final => {
                        self.push(
                            Code::Reference,
                            format!("{tp}/from/{i}"),
                            format!("transition {name}.{tname} leaves '{s}', which is final"),
                        );
                    }
                    Some(_) => {}
                }
            }
            if !flow.states.contains_key(&t.to) {
                let hint = did_you_mean(&t.to, states());
                self.push(
                    Code::Reference,
                    format!("{tp}/to"),
                    format!(
                        "transition {name}.{tname} goes to unknown state '{}'{hint}",
                        t.to
                    ),
                );
            }
        }
    }

    fn check_page_fields(
        &mut self,
        page_id: &str,
        obj_name: &str,
        path: String,
        fields: &[String],
        what: &str,
        editable: bool,
    ) {
        let Some(obj) = self.spec.objects.get(obj_name) else {
            return;
        };
        let mut seen = BTreeSet::new();
        for (i, f) in fields.iter().enumerate() {
            let p = format!("{path}/{i}");
            if !self.resolves(obj, f) {
                let hint = did_you_mean(f, Self::field_candidates(obj));
                self.push(
                    Code::Reference,
                    p,
                    format!("{what} '{f}' of page {page_id} is not a field of {obj_name}{hint}"),
                );
            } else if !seen.insert(f) {
                self.push(
                    Code::AlreadyExists,
                    p,
                    format!("{what} '{f}' appears twice on page {page_id}"),
                );
            } else if editable && is_system_field(f) {
                self.push(
                    Code::SystemField,
                    p,
                    format!("form {page_id} cannot edit the system field '{f}'"),
                );
            }
        }
    }

    fn check_page(&mut self, id: &str, page: &PageDef) {
        let path = format!("/pages/{}", seg(id));
        if !is_dotted(id) {
            self.push(
                Code::InvalidName,
                path.clone(),
                format!("page id '{id}' must be {}", names::DOTTED_RULE),
            );
        }
        let obj = page.object();
        if !self.spec.objects.contains_key(obj) {
            let hint = did_you_mean(obj, self.object_names());
            self.push(
                Code::Reference,
                format!("{path}/object"),
                format!("page {id} shows unknown object '{obj}'{hint}"),
            );
            return;
        }
        match page {
            PageDef::List(l) => {
                if l.columns.is_empty() {
                    self.push(
                        Code::Reference,
                        format!("{path}/columns"),
                        format!("list page {id} has no columns"),
                    );
                }
                self.check_page_fields(
                    id,
                    obj,
                    format!("{path}/columns"),
                    &l.columns,
                    "column",
                    false,
                );
                self.check_page_fields(
                    id,
                    obj,
                    format!("{path}/filters"),
                    &l.filters,
                    "filter",
                    false,
                );
                if let Some(s) = &l.sort {
                    self.check_page_fields(
                        id,
                        obj,
                        format!("{path}/sort/field"),
                        std::slice::from_ref(&s.field),
                        "sort field",
                        false,
                    );
                }
            }
            PageDef::Form(p) | PageDef::Detail(p) => {
                if p.sections.is_empty() {
                    self.push(
                        Code::Reference,
                        format!("{path}/sections"),
                        format!("page {id} has no sections"),
                    );
                }
                let editable = matches!(page, PageDef::Form(_));
                let mut ids = BTreeSet::new();
                let mut all = Vec::new();
                for (i, s) in p.sections.iter().enumerate() {
                    if !is_dotted(&s.id) {
                        self.push(
                            Code::InvalidName,
                            format!("{path}/sections/{i}/id"),
                            format!(
                                "section id '{}' of page {id} must be {}",
                                s.id,
                                names::DOTTED_RULE
                            ),
                        );
                    } else if !ids.insert(&s.id) {
                        self.push(
                            Code::AlreadyExists,
                            format!("{path}/sections/{i}/id"),
                            format!("section '{}' appears twice on page {id}", s.id),
                        );
                    }
                    all.extend(
                        s.fields
                            .iter()
                            .enumerate()
                            .map(|(j, f)| (format!("{path}/sections/{i}/fields/{j}"), f.clone())),
                    );
                }
                let mut seen = BTreeSet::new();
                let object = &self.spec.objects[obj];
                for (p, f) in all {
                    if !self.resolves(object, &f) {
                        let hint = did_you_mean(&f, Self::field_candidates(object));
                        self.push(
                            Code::Reference,
                            p,
                            format!("field '{f}' on page {id} is not a field of {obj}{hint}"),
                        );
                    } else if !seen.insert(f.clone()) {
                        self.push(
                            Code::AlreadyExists,
                            p,
                            format!("field '{f}' appears twice on page {id}"),
                        );
                    } else if editable && is_system_field(&f) {
                        self.push(
                            Code::SystemField,
                            p,
                            format!("form {id} cannot edit the system field '{f}'"),
                        );
                    }
                }
            }
        }
    }

    fn check_roles(&mut self) {
        for (name, role) in &self.spec.roles {
            let path = format!("/roles/{}", seg(name));
            if names::PLATFORM_ROLES.contains(&name.as_str()) {
                self.push(
                    Code::PermissionEscalation,
                    path.clone(),
                    format!("'{name}' is a platform role and cannot be a business role"),
                );
            } else if !is_camel(name) {
                self.push(
                    Code::InvalidName,
                    path.clone(),
                    format!("role name '{name}' must be {}", names::CAMEL_RULE),
                );
            }
            if role.label.trim().is_empty() {
                self.push(
                    Code::InvalidName,
                    format!("{path}/label"),
                    format!("role {name} needs a label"),
                );
            }
            for (obj_name, grants) in &role.grants {
                let gp = format!("{path}/grants/{}", seg(obj_name));
                let Some(obj) = self.spec.objects.get(obj_name) else {
                    let hint = did_you_mean(obj_name, self.object_names());
                    self.push(
                        Code::Reference,
                        gp,
                        format!("role {name} grants on unknown object '{obj_name}'{hint}"),
                    );
                    continue;
                };
                let mut seen = BTreeSet::new();
                for (i, g) in grants.iter().enumerate() {
                    if !seen.insert(g) {
                        self.push(
                            Code::AlreadyExists,
                            format!("{gp}/{i}"),
                            format!("role {name} lists '{g}' on {obj_name} twice"),
                        );
                    }
                    if let crate::Grant::Transition(t) = g
                        && !obj
                            .state_flow
                            .as_ref()
                            .is_some_and(|f| f.transitions.contains_key(t))
                    {
                        let cands: Vec<&str> = obj
                            .state_flow
                            .iter()
                            .flat_map(|f| f.transitions.keys().map(String::as_str))
                            .collect();
                        let hint = did_you_mean(t, cands);
                        self.push(
                            Code::Reference,
                            format!("{gp}/{i}"),
                            format!(
                                "role {name} grants unknown transition '{t}' of {obj_name}{hint}"
                            ),
                        );
                    }
                }
            }
        }
    }

    fn check_menus(&mut self, nodes: &[MenuNode], path: &str, seen: &mut BTreeSet<String>) {
        for (i, n) in nodes.iter().enumerate() {
            let p = format!("{path}/{i}");
            if !is_dotted(&n.id) {
                self.push(
                    Code::InvalidName,
                    format!("{p}/id"),
                    format!("menu id '{}' must be {}", n.id, names::DOTTED_RULE),
                );
            } else if !seen.insert(n.id.clone()) {
                self.push(
                    Code::AlreadyExists,
                    format!("{p}/id"),
                    format!("menu id '{}' is used twice", n.id),
                );
            }
            if n.label.trim().is_empty() {
                self.push(
                    Code::InvalidName,
                    format!("{p}/label"),
                    format!("menu item {} needs a label", n.id),
                );
            }
            if let Some(page) = &n.page
                && !self.spec.pages.contains_key(page)
            {
                let hint = did_you_mean(page, self.spec.pages.keys().map(String::as_str));
                self.push(
                    Code::Reference,
                    format!("{p}/page"),
                    format!("menu item {} opens unknown page '{page}'{hint}", n.id),
                );
            }
            self.check_menus(&n.children, &format!("{p}/children"), seen);
        }
    }
}

/// Every violation in `spec`, in a stable order (objects, pages, roles, menus).
pub fn check(spec: &Spec) -> Vec<Violation> {
    let mut c = Checker {
        spec,
        out: Vec::new(),
    };
    for (name, obj) in &spec.objects {
        c.check_object(name, obj);
    }
    for (id, page) in &spec.pages {
        c.check_page(id, page);
    }
    c.check_roles();
    let mut seen = BTreeSet::new();
    c.check_menus(&spec.menus, "/menus", &mut seen);
    c.check_all_labels();
    c.out
}

/// Whether `tag` looks like a BCP 47 language tag (`zh-CN`, `en`, `pt-BR`).
fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or_default();
    (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

impl Checker<'_> {
    fn check_labels(&mut self, path: &str, labels: &Labels) {
        for (tag, text) in labels {
            let p = format!("{path}/{}", seg(tag));
            if !is_language_tag(tag) {
                self.push(
                    Code::InvalidName,
                    p,
                    format!("'{tag}' is not a language tag; write e.g. zh-CN or en"),
                );
            } else if text.trim().is_empty() || text.chars().count() > 200 {
                self.push(
                    Code::InvalidName,
                    p,
                    format!("the {tag} label at {path} must have 1 to 200 characters"),
                );
            }
        }
    }

    /// Every translation in the spec: well-formed tags, no empty texts.
    fn check_all_labels(&mut self) {
        let spec = self.spec;
        for (name, obj) in &spec.objects {
            let op = format!("/objects/{}", seg(name));
            self.check_labels(&format!("{op}/labels"), &obj.labels);
            for (fname, f) in &obj.fields {
                let fp = format!("{op}/fields/{}", seg(fname));
                self.check_labels(&format!("{fp}/labels"), &f.labels);
                for (v, labels) in &f.value_labels {
                    self.check_labels(&format!("{fp}/valueLabels/{}", seg(v)), labels);
                }
            }
            if let Some(flow) = &obj.state_flow {
                for (sname, st) in &flow.states {
                    let sp = format!("{op}/stateFlow/states/{}/labels", seg(sname));
                    self.check_labels(&sp, &st.labels);
                }
                for (tname, t) in &flow.transitions {
                    let tp = format!("{op}/stateFlow/transitions/{}/labels", seg(tname));
                    self.check_labels(&tp, &t.labels);
                }
            }
        }
        for (id, page) in &spec.pages {
            let pp = format!("/pages/{}", seg(id));
            match page {
                PageDef::List(l) => self.check_labels(&format!("{pp}/labels"), &l.labels),
                PageDef::Form(p) | PageDef::Detail(p) => {
                    self.check_labels(&format!("{pp}/labels"), &p.labels);
                    for (i, s) in p.sections.iter().enumerate() {
                        self.check_labels(&format!("{pp}/sections/{i}/labels"), &s.labels);
                    }
                }
            }
        }
        for (id, role) in &spec.roles {
            self.check_labels(&format!("/roles/{}/labels", seg(id)), &role.labels);
        }
        fn menus(c: &mut Checker<'_>, nodes: &[MenuNode], path: &str) {
            for (i, n) in nodes.iter().enumerate() {
                let np = format!("{path}/{i}");
                c.check_labels(&format!("{np}/labels"), &n.labels);
                menus(c, &n.children, &format!("{np}/children"));
            }
        }
        menus(self, &spec.menus, "/menus");
    }
}

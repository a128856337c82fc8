//! `object` scope: `{object}` and `{object, field}`.

use super::{Effect, Op, compare, seg};
use crate::diff::ChangeAction;
use crate::document::OpKind;
use crate::level::Level;
use crate::report::Issue;
use spec::names::{self, did_you_mean, is_camel, is_pascal, is_system_field};
use spec::{Code, FieldDef, ObjectDef, Spec};

pub(super) fn apply(o: &Op, spec: &mut Spec) -> Result<Effect, Issue> {
    o.target_shape(&[&["object"], &["object", "field"]])?;
    let t = &o.op.target;
    let obj = t.object.as_deref().expect("shape checked");
    match &t.field {
        None => whole_object(o, spec, obj),
        Some(field) => one_field(o, spec, obj, field),
    }
}

/// System fields and state-field names inside an object definition.
fn check_object_value(o: &Op, obj: &str, def: &ObjectDef) -> Result<(), Issue> {
    for name in def.fields.keys() {
        if is_system_field(name) {
            return Err(o.err(
                Code::SystemField,
                &format!("/value/fields/{}", seg(name)),
                format!("field '{name}' of {obj} is a system field; the platform manages it"),
            ));
        }
    }
    if let Some(flow) = &def.state_flow
        && is_system_field(&flow.field)
    {
        return Err(o.err(
            Code::SystemField,
            "/value/stateFlow/field",
            format!(
                "the state field of {obj} cannot be the system field '{}'",
                flow.field
            ),
        ));
    }
    Ok(())
}

fn unknown_object(o: &Op, spec: &Spec, obj: &str) -> Issue {
    let hint = did_you_mean(obj, spec.objects.keys().map(String::as_str));
    o.err(
        Code::UnknownObject,
        "/target/object",
        format!("object '{obj}' does not exist{hint}"),
    )
}

fn whole_object(o: &Op, spec: &mut Spec, obj: &str) -> Result<Effect, Issue> {
    let path = format!("/objects/{}", seg(obj));
    let original = o.original.objects.get(obj);
    match o.op.op {
        OpKind::Add => {
            if spec.objects.contains_key(obj) {
                return Err(o.err(
                    Code::AlreadyExists,
                    "/target/object",
                    format!("object '{obj}' already exists"),
                ));
            }
            if !is_pascal(obj) {
                return Err(o.err(
                    Code::InvalidName,
                    "/target/object",
                    format!("object name '{obj}' must be {}", names::PASCAL_RULE),
                ));
            }
            let def: ObjectDef = o.value("an object definition")?;
            check_object_value(o, obj, &def)?;
            let n = def.fields.len();
            spec.objects.insert(obj.to_owned(), def);
            Ok(
                Effect::new(Level::L1, format!("add object {obj} with {n} field(s)")).change(
                    o.i,
                    ChangeAction::Added,
                    "object",
                    obj.to_owned(),
                    path,
                ),
            )
        }
        OpKind::Remove => {
            o.no_value()?;
            if spec::BASE_OBJECTS.contains(&obj) {
                return Err(o.err(
                    Code::Protected,
                    "/target/object",
                    format!("{obj} is a base CRM object and cannot be removed"),
                ));
            }
            if spec.objects.remove(obj).is_none() {
                return Err(unknown_object(o, spec, obj));
            }
            let mut e = Effect::new(Level::L2, format!("remove object {obj}")).change(
                o.i,
                ChangeAction::Removed,
                "object",
                obj.to_owned(),
                path,
            );
            if original.is_some() {
                e = e.warn(
                    "W_HIDES_DATA",
                    format!(
                        "records of {obj} are hidden, not deleted; they return if the object does"
                    ),
                );
            }
            Ok(e)
        }
        OpKind::Update | OpKind::Replace => {
            let Some(old) = spec.objects.get(obj) else {
                return Err(unknown_object(o, spec, obj));
            };
            let new: ObjectDef = if o.op.op == OpKind::Update {
                o.merged(old, "the object")?
            } else {
                o.value("an object definition")?
            };
            check_object_value(o, obj, &new)?;
            let a = compare::object(obj, old, &new, original)
                .map_err(|(code, msg)| o.err(code, "/value", msg))?;
            let noop = *old == new;
            spec.objects.insert(obj.to_owned(), new);
            let mut summary = format!("{} object {obj}", o.op.op.as_str());
            if !a.reasons.is_empty() {
                summary.push_str(&format!(" ({})", a.reasons.join("; ")));
            }
            let mut e = Effect::new(a.level, summary).change(
                o.i,
                ChangeAction::Changed,
                "object",
                obj.to_owned(),
                path,
            );
            if noop {
                e = e.warn(
                    "W_NOOP",
                    format!("the {} leaves object {obj} unchanged", o.op.op.as_str()),
                );
            }
            Ok(e)
        }
        OpKind::Reorder => {
            Err(o
                .not_allowed("an object (reorder applies to page columns and sections, and menus)"))
        }
    }
}

fn one_field(o: &Op, spec: &mut Spec, obj: &str, field: &str) -> Result<Effect, Issue> {
    if is_system_field(field) {
        return Err(o.err(
            Code::SystemField,
            "/target/field",
            format!("field '{field}' of {obj} is a system field"),
        ));
    }
    let Some(def) = spec.objects.get(obj) else {
        return Err(unknown_object(o, spec, obj));
    };
    let path = format!("/objects/{}/fields/{}", seg(obj), seg(field));
    let name = format!("{obj}.{field}");
    let existed = o.original.objects.get(obj);
    let has_data = existed.is_some_and(|d| d.fields.contains_key(field));
    let unknown_field = || {
        let hint = did_you_mean(field, def.fields.keys().map(String::as_str));
        o.err(
            Code::UnknownField,
            "/target/field",
            format!("field '{field}' of {obj} does not exist{hint}"),
        )
    };
    match o.op.op {
        OpKind::Add => {
            if def.fields.contains_key(field) {
                return Err(o.err(
                    Code::AlreadyExists,
                    "/target/field",
                    format!("field '{field}' of {obj} already exists"),
                ));
            }
            if def.state_flow.as_ref().is_some_and(|f| f.field == field) {
                return Err(o.err(
                    Code::AlreadyExists,
                    "/target/field",
                    format!("'{field}' is the state field of {obj}"),
                ));
            }
            if !is_camel(field) {
                let hint = names::camel_from_words(field);
                let hint = if is_camel(&hint) {
                    format!("; for example '{hint}'")
                } else {
                    String::new()
                };
                return Err(o.err(
                    Code::InvalidName,
                    "/target/field",
                    format!("field name '{field}' must be {}{hint}", names::CAMEL_RULE),
                ));
            }
            let new: FieldDef = o.value("a field definition")?;
            let mut level = Level::L1;
            let mut e_warn = None;
            if new.required && existed.is_some() {
                level = Level::L2;
                e_warn = Some(format!(
                    "{name} is required: existing {obj} records have no value and fail validation on their next update"
                ));
            }
            let summary = format!(
                "add {}{} field {name}",
                if new.required { "required " } else { "" },
                new.ty
            );
            spec.objects
                .get_mut(obj)
                .expect("checked")
                .fields
                .insert(field.to_owned(), new);
            let mut e =
                Effect::new(level, summary).change(o.i, ChangeAction::Added, "field", name, path);
            if let Some(w) = e_warn {
                e = e.warn("W_EXISTING_RECORDS", w);
            }
            Ok(e)
        }
        OpKind::Remove => {
            o.no_value()?;
            if !def.fields.contains_key(field) {
                return Err(unknown_field());
            }
            spec.objects
                .get_mut(obj)
                .expect("checked")
                .fields
                .remove(field);
            let mut e = Effect::new(Level::L2, format!("remove field {name}")).change(
                o.i,
                ChangeAction::Removed,
                "field",
                name.clone(),
                path,
            );
            if has_data {
                e = e.warn(
                    "W_HIDES_DATA",
                    format!(
                        "values of {name} are hidden, not deleted; they return if the field does"
                    ),
                );
            }
            Ok(e)
        }
        OpKind::Update | OpKind::Replace => {
            let Some(old) = def.fields.get(field) else {
                return Err(unknown_field());
            };
            let mut new: FieldDef = if o.op.op == OpKind::Update {
                o.merged(old, "the field")?
            } else {
                o.value("a field definition")?
            };
            // Labels of enum values the change removes go with them; a label the
            // patch itself names for an unknown value stays and is reported.
            let values = new.values.clone().unwrap_or_default();
            new.value_labels
                .retain(|v, _| values.contains(v) || !old.value_labels.contains_key(v));
            let a = compare::field(&name, old, &new, has_data)
                .map_err(|(code, msg)| o.err(code, "/value", msg))?;
            let noop = *old == new;
            let mut summary = format!("{} field {name}", o.op.op.as_str());
            if !a.reasons.is_empty() {
                summary.push_str(&format!(" ({})", a.reasons.join("; ")));
            }
            spec.objects
                .get_mut(obj)
                .expect("checked")
                .fields
                .insert(field.to_owned(), new);
            let mut e = Effect::new(a.level, summary).change(
                o.i,
                ChangeAction::Changed,
                "field",
                name.clone(),
                path,
            );
            if a.level >= Level::L2 {
                e = e.warn("W_EXISTING_RECORDS", format!("existing {obj} records may no longer satisfy {name}; see the impact before publishing"));
            }
            if noop {
                e = e.warn(
                    "W_NOOP",
                    format!("the {} leaves {name} unchanged", o.op.op.as_str()),
                );
            }
            Ok(e)
        }
        OpKind::Reorder => Err(o.not_allowed("a field")),
    }
}

//! How risky a change to an existing definition is (docs/patch-dsl.md's levels).
//! `Err` carries a blocking code and its message.

use crate::level::Level;
use spec::value::bound;
use spec::{Code, FieldDef, FieldType, ObjectDef, StateFlow};

/// A level and the reasons that raised it above L1.
#[derive(Debug, Default)]
pub(crate) struct Assessment {
    pub level: Level,
    pub reasons: Vec<String>,
}

impl Assessment {
    fn raise(&mut self, level: Level, reason: String) {
        self.level = self.level.max(level);
        self.reasons.push(reason);
    }
}

/// Whether a bound moves so that fewer values pass: added, or moved inwards.
fn narrows<T: PartialOrd>(old: Option<T>, new: Option<T>, higher_is_narrower: bool) -> bool {
    match (old, new) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(o), Some(n)) => {
            if higher_is_narrower {
                n > o
            } else {
                n < o
            }
        }
    }
}

/// Compares a field's old and new definitions. `has_data` says whether records may
/// hold values for it (it exists in the live spec); narrowing without data is safe.
pub(crate) fn field(
    name: &str,
    old: &FieldDef,
    new: &FieldDef,
    has_data: bool,
) -> Result<Assessment, (Code, String)> {
    let mut a = Assessment::default();
    if old.ty != new.ty {
        if !old.ty.widens_to(new.ty) {
            if has_data {
                return Err((
                    Code::TypeChange,
                    format!(
                        "changing {name} from {} to {} would make stored values invalid; only integer→decimal, string→text and email|phone|url|enum→string are allowed",
                        old.ty, new.ty
                    ),
                ));
            }
        } else {
            a.raise(
                Level::L2,
                format!("{name}: type widens from {} to {}", old.ty, new.ty),
            );
        }
    }
    if old.ty == FieldType::Reference
        && new.ty == FieldType::Reference
        && old.object != new.object
        && has_data
    {
        return Err((
            Code::TypeChange,
            format!(
                "{name} references {}; pointing it at {} would leave stored ids meaningless",
                old.object.as_deref().unwrap_or("?"),
                new.object.as_deref().unwrap_or("?")
            ),
        ));
    }
    if !has_data {
        return Ok(a);
    }
    if new.required && !old.required {
        a.raise(Level::L2, format!("{name} becomes required"));
    }
    if new.unique && !old.unique {
        a.raise(Level::L2, format!("{name} becomes unique"));
    }
    if narrows(
        old.min.as_ref().and_then(bound),
        new.min.as_ref().and_then(bound),
        true,
    ) {
        a.raise(Level::L2, format!("{name}: min narrows"));
    }
    if narrows(
        old.max.as_ref().and_then(bound),
        new.max.as_ref().and_then(bound),
        false,
    ) {
        a.raise(Level::L2, format!("{name}: max narrows"));
    }
    if narrows(old.min_length, new.min_length, true) {
        a.raise(Level::L2, format!("{name}: minLength narrows"));
    }
    if narrows(old.max_length, new.max_length, false) {
        a.raise(Level::L2, format!("{name}: maxLength narrows"));
    }
    if narrows(old.scale, new.scale, false) {
        a.raise(Level::L2, format!("{name}: scale narrows"));
    }
    if new.pattern.is_some() && new.pattern != old.pattern {
        a.raise(Level::L2, format!("{name}: pattern added or changed"));
    }
    if let (Some(ov), Some(nv)) = (&old.values, &new.values) {
        let dropped: Vec<&String> = ov.iter().filter(|v| !nv.contains(v)).collect();
        if !dropped.is_empty() {
            a.raise(
                Level::L2,
                format!(
                    "{name}: enum values removed ({})",
                    dropped
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
    }
    match (&old.auto_number, &new.auto_number) {
        (None, Some(_)) => a.raise(
            Level::L2,
            format!("{name} becomes numbered: records without a number get one, in creation order, at publish"),
        ),
        (Some(o), Some(n)) if o != n => a.raise(
            Level::L2,
            format!("{name}: numbering changes to '{}' (existing numbers stay)", n.format(1)),
        ),
        _ => {}
    }
    if old.on_delete != new.on_delete {
        a.raise(Level::L2, format!("{name}: onDelete changes"));
    }
    Ok(a)
}

/// Compares two state flows of an object whose records exist when `has_data`.
pub(crate) fn flow(obj: &str, old: &StateFlow, new: &StateFlow, has_data: bool) -> Assessment {
    let mut a = Assessment::default();
    if !has_data {
        return a;
    }
    if old.field != new.field {
        a.raise(
            Level::L2,
            format!(
                "{obj}: the state field moves from {} to {}",
                old.field, new.field
            ),
        );
    }
    if old.initial != new.initial {
        a.raise(
            Level::L2,
            format!(
                "{obj}: new records start in {} instead of {}",
                new.initial, old.initial
            ),
        );
    }
    for (s, def) in &old.states {
        match new.states.get(s) {
            None => a.raise(Level::L2, format!("{obj}: state {s} is removed")),
            Some(n) if n.is_final != def.is_final => a.raise(
                Level::L2,
                format!("{obj}: state {s} changes whether it is final"),
            ),
            Some(_) => {}
        }
    }
    for (t, def) in &old.transitions {
        match new.transitions.get(t) {
            None => a.raise(Level::L2, format!("{obj}: transition {t} is removed")),
            Some(n) if n.from != def.from || n.to != def.to => {
                a.raise(Level::L2, format!("{obj}: transition {t} changes"))
            }
            Some(_) => {}
        }
    }
    a
}

/// Compares two definitions of an object; `original` is its live definition, if any.
pub(crate) fn object(
    name: &str,
    old: &ObjectDef,
    new: &ObjectDef,
    original: Option<&ObjectDef>,
) -> Result<Assessment, (Code, String)> {
    let mut a = Assessment::default();
    if original.is_some_and(|o| o.immutable) && !new.immutable {
        return Err((
            Code::Protected,
            format!("{name} is immutable (a ledger) and cannot be made mutable"),
        ));
    }
    if new.immutable && !old.immutable && original.is_some() {
        a.raise(
            Level::L2,
            format!("{name} becomes immutable: its records lock once final"),
        );
    }
    for (f, def) in &old.fields {
        let has_data = original.is_some_and(|o| o.fields.contains_key(f));
        match new.fields.get(f) {
            None if has_data => a.raise(
                Level::L2,
                format!("{name}.{f} is removed (its values are hidden, not deleted)"),
            ),
            None => {}
            Some(n) => {
                let sub = field(&format!("{name}.{f}"), def, n, has_data)?;
                a.level = a.level.max(sub.level);
                a.reasons.extend(sub.reasons);
            }
        }
    }
    for (f, def) in &new.fields {
        if !old.fields.contains_key(f) && def.required && original.is_some() {
            a.raise(
                Level::L2,
                format!("{name}.{f} is a new required field: existing records have no value"),
            );
        }
    }
    match (&old.state_flow, &new.state_flow, original) {
        (Some(_), None, Some(_)) => a.raise(Level::L2, format!("{name} loses its state flow")),
        (Some(o), Some(n), orig) => {
            let sub = flow(name, o, n, orig.is_some_and(|x| x.state_flow.is_some()));
            a.level = a.level.max(sub.level);
            a.reasons.extend(sub.reasons);
        }
        _ => {}
    }
    Ok(a)
}

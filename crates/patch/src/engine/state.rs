//! `state` scope: the whole flow `{object}`, one state `{object, state}`, one
//! transition `{object, transition}`.

use super::{Effect, Op, compare, seg};
use crate::diff::ChangeAction;
use crate::document::OpKind;
use crate::level::Level;
use crate::report::Issue;
use spec::names::{self, did_you_mean, is_camel, is_system_field};
use spec::{Code, Spec, StateDef, StateFlow, TransitionDef};

pub(super) fn apply(o: &Op, spec: &mut Spec) -> Result<Effect, Issue> {
    o.target_shape(&[&["object"], &["object", "state"], &["object", "transition"]])?;
    let t = &o.op.target;
    let obj = t.object.as_deref().expect("shape checked");
    if !spec.objects.contains_key(obj) {
        let hint = did_you_mean(obj, spec.objects.keys().map(String::as_str));
        return Err(o.err(
            Code::UnknownObject,
            "/target/object",
            format!("object '{obj}' does not exist{hint}"),
        ));
    }
    match (&t.state, &t.transition) {
        (None, None) => whole_flow(o, spec, obj),
        (Some(s), None) => one_state(o, spec, obj, s),
        (None, Some(tr)) => one_transition(o, spec, obj, tr),
        (Some(_), Some(_)) => unreachable!("shape checked"),
    }
}

fn no_flow(o: &Op, obj: &str, sub: &str) -> Issue {
    o.err(
        Code::UnknownState,
        sub,
        format!("{obj} has no state flow; add one with a state operation targeting {{object}}"),
    )
}

fn whole_flow(o: &Op, spec: &mut Spec, obj: &str) -> Result<Effect, Issue> {
    let path = format!("/objects/{}/stateFlow", seg(obj));
    let has_data = o
        .original
        .objects
        .get(obj)
        .is_some_and(|d| d.state_flow.is_some());
    let def = spec.objects.get_mut(obj).expect("checked");
    let check_field = |flow: &StateFlow| {
        if is_system_field(&flow.field) {
            Err(o.err(
                Code::SystemField,
                "/value/field",
                format!(
                    "the state field of {obj} cannot be the system field '{}'",
                    flow.field
                ),
            ))
        } else {
            Ok(())
        }
    };
    match o.op.op {
        OpKind::Add => {
            if def.state_flow.is_some() {
                return Err(o.err(
                    Code::AlreadyExists,
                    "/target/object",
                    format!("{obj} already has a state flow; update or replace it"),
                ));
            }
            let flow: StateFlow = o.value("a state flow {field, initial, states, transitions}")?;
            check_field(&flow)?;
            let summary = format!(
                "add a state flow to {obj} ({} states, {} transitions)",
                flow.states.len(),
                flow.transitions.len()
            );
            def.state_flow = Some(flow);
            Ok(Effect::new(Level::L1, summary).change(
                o.i,
                ChangeAction::Added,
                "stateFlow",
                obj.to_owned(),
                path,
            ))
        }
        OpKind::Remove => {
            o.no_value()?;
            if def.state_flow.take().is_none() {
                return Err(no_flow(o, obj, "/target/object"));
            }
            Ok(
                Effect::new(Level::L2, format!("remove the state flow of {obj}")).change(
                    o.i,
                    ChangeAction::Removed,
                    "stateFlow",
                    obj.to_owned(),
                    path,
                ),
            )
        }
        OpKind::Update | OpKind::Replace => {
            let Some(old) = &def.state_flow else {
                return Err(no_flow(o, obj, "/target/object"));
            };
            let new: StateFlow = if o.op.op == OpKind::Update {
                o.merged(old, "the state flow")?
            } else {
                o.value("a state flow")?
            };
            check_field(&new)?;
            let a = compare::flow(obj, old, &new, has_data);
            let mut summary = format!("{} the state flow of {obj}", o.op.op.as_str());
            if !a.reasons.is_empty() {
                summary.push_str(&format!(" ({})", a.reasons.join("; ")));
            }
            def.state_flow = Some(new);
            Ok(Effect::new(a.level, summary).change(
                o.i,
                ChangeAction::Changed,
                "stateFlow",
                obj.to_owned(),
                path,
            ))
        }
        OpKind::Reorder => Err(o.not_allowed("a state flow")),
    }
}

fn one_state(o: &Op, spec: &mut Spec, obj: &str, state: &str) -> Result<Effect, Issue> {
    let path = format!("/objects/{}/stateFlow/states/{}", seg(obj), seg(state));
    let name = format!("{obj}.{state}");
    let has_data = o
        .original
        .objects
        .get(obj)
        .and_then(|d| d.state_flow.as_ref())
        .is_some_and(|f| f.states.contains_key(state));
    let Some(flow) = spec
        .objects
        .get_mut(obj)
        .expect("checked")
        .state_flow
        .as_mut()
    else {
        return Err(no_flow(o, obj, "/target/object"));
    };
    let unknown = |flow: &StateFlow| {
        let hint = did_you_mean(state, flow.states.keys().map(String::as_str));
        o.err(
            Code::UnknownState,
            "/target/state",
            format!("state '{state}' of {obj} does not exist{hint}"),
        )
    };
    match o.op.op {
        OpKind::Add => {
            if flow.states.contains_key(state) {
                return Err(o.err(
                    Code::AlreadyExists,
                    "/target/state",
                    format!("state '{state}' of {obj} already exists"),
                ));
            }
            if !is_camel(state) {
                return Err(o.err(
                    Code::InvalidName,
                    "/target/state",
                    format!("state name '{state}' must be {}", names::CAMEL_RULE),
                ));
            }
            let def: StateDef = match &o.op.value {
                None => StateDef::default(),
                Some(_) => o.value("a state definition {label?, final?}")?,
            };
            flow.states.insert(state.to_owned(), def);
            Ok(Effect::new(Level::L1, format!("add state {name}")).change(
                o.i,
                ChangeAction::Added,
                "state",
                name,
                path,
            ))
        }
        OpKind::Remove => {
            o.no_value()?;
            if flow.states.remove(state).is_none() {
                return Err(unknown(flow));
            }
            Ok(
                Effect::new(Level::L2, format!("remove state {name}")).change(
                    o.i,
                    ChangeAction::Removed,
                    "state",
                    name,
                    path,
                ),
            )
        }
        OpKind::Update | OpKind::Replace => {
            let Some(old) = flow.states.get(state) else {
                return Err(unknown(flow));
            };
            let new: StateDef = if o.op.op == OpKind::Update {
                o.merged(old, "the state")?
            } else {
                o.value("a state definition")?
            };
            let level = if has_data && old.is_final != new.is_final {
                Level::L2
            } else {
                Level::L1
            };
            let summary = if level == Level::L2 {
                format!(
                    "{} state {name} (changes whether it is final)",
                    o.op.op.as_str()
                )
            } else {
                format!("{} state {name}", o.op.op.as_str())
            };
            flow.states.insert(state.to_owned(), new);
            Ok(Effect::new(level, summary).change(o.i, ChangeAction::Changed, "state", name, path))
        }
        OpKind::Reorder => Err(o.not_allowed("a state")),
    }
}

fn one_transition(o: &Op, spec: &mut Spec, obj: &str, tr: &str) -> Result<Effect, Issue> {
    let path = format!("/objects/{}/stateFlow/transitions/{}", seg(obj), seg(tr));
    let name = format!("{obj}.{tr}");
    let has_data = o
        .original
        .objects
        .get(obj)
        .and_then(|d| d.state_flow.as_ref())
        .is_some_and(|f| f.transitions.contains_key(tr));
    let Some(flow) = spec
        .objects
        .get_mut(obj)
        .expect("checked")
        .state_flow
        .as_mut()
    else {
        return Err(no_flow(o, obj, "/target/object"));
    };
    let unknown = |flow: &StateFlow| {
        let hint = did_you_mean(tr, flow.transitions.keys().map(String::as_str));
        o.err(
            Code::UnknownTransition,
            "/target/transition",
            format!("transition '{tr}' of {obj} does not exist{hint}"),
        )
    };
    match o.op.op {
        OpKind::Add => {
            if flow.transitions.contains_key(tr) {
                return Err(o.err(
                    Code::AlreadyExists,
                    "/target/transition",
                    format!("transition '{tr}' of {obj} already exists"),
                ));
            }
            if !is_camel(tr) {
                return Err(o.err(
                    Code::InvalidName,
                    "/target/transition",
                    format!("transition name '{tr}' must be {}", names::CAMEL_RULE),
                ));
            }
            let def: TransitionDef = o.value("a transition {from: [states], to: state}")?;
            let summary = format!(
                "add transition {name} ({} → {})",
                def.from.join("|"),
                def.to
            );
            flow.transitions.insert(tr.to_owned(), def);
            Ok(Effect::new(Level::L1, summary).change(
                o.i,
                ChangeAction::Added,
                "transition",
                name,
                path,
            ))
        }
        OpKind::Remove => {
            o.no_value()?;
            if flow.transitions.remove(tr).is_none() {
                return Err(unknown(flow));
            }
            Ok(
                Effect::new(Level::L2, format!("remove transition {name}")).change(
                    o.i,
                    ChangeAction::Removed,
                    "transition",
                    name,
                    path,
                ),
            )
        }
        OpKind::Update | OpKind::Replace => {
            let Some(old) = flow.transitions.get(tr) else {
                return Err(unknown(flow));
            };
            let new: TransitionDef = if o.op.op == OpKind::Update {
                o.merged(old, "the transition")?
            } else {
                o.value("a transition")?
            };
            // Relabelling is harmless; changing where a transition goes changes what
            // people can do with existing records.
            let moves = old.from != new.from || old.to != new.to;
            let level = if has_data && moves {
                Level::L2
            } else {
                Level::L1
            };
            let summary = format!(
                "{} transition {name} ({} → {})",
                o.op.op.as_str(),
                new.from.join("|"),
                new.to
            );
            flow.transitions.insert(tr.to_owned(), new);
            Ok(Effect::new(level, summary).change(
                o.i,
                ChangeAction::Changed,
                "transition",
                name,
                path,
            ))
        }
        OpKind::Reorder => Err(o.not_allowed("a transition")),
    }
}

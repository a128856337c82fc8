//! What the model is told: the rules of the Patch DSL, its JSON Schema, worked
//! examples, the live spec (or the part a request touches) and the module's current
//! patch. Kept in one place so the context is reviewable as a whole.

use serde_json::Value;
use spec::Spec;
use std::sync::LazyLock;

const EXAMPLE_FIELD: &str = include_str!("../../../../examples/patches/object-loyalty-points.json");
const EXAMPLE_OBJECT: &str = include_str!("../../../../examples/patches/object-new-campaign.json");
const EXAMPLE_STATE: &str = include_str!("../../../../examples/patches/state-order-on-hold.json");

/// Above this size the spec is cut down to the objects a request mentions.
const FULL_SPEC_LIMIT: usize = 60_000;

static SYSTEM: LazyLock<String> = LazyLock::new(|| {
    let schema = serde_json::to_string(&patch::patch_json_schema()).unwrap_or_default();
    format!(
        "You write modules for a CRM as patch documents of the Modgate Patch DSL ({dsl}).\n\
         Answer with ONE JSON object, the complete patch document, and nothing else: no prose, no code fences.\n\n\
         Rules:\n\
         - \"dsl\" is \"{dsl}\"; \"title\" is short; \"operations\" apply in order, all or none.\n\
         - Scopes: object (objects and fields), state (states and transitions of a state flow), page (list/form/detail pages), permission (roles and grants), menu (menu items).\n\
         - Ops: add (target must not exist), remove (must exist), update (JSON merge patch onto the existing value; arrays are replaced whole), replace, reorder (a permutation of existing ids).\n\
         - Names: objects PascalCase; fields, states, transitions and roles camelCase; pages and menu items dotted lower-case ids like customer.list, crm.loyalty.\n\
         - Never redefine system fields (id, createdAt, updatedAt, createdBy, version). References must point at existing objects, fields and pages.\n\
         - A new field is not shown anywhere until a page lists it: update the object's list columns and form sections.\n\
         - Security levels: L1 additive and safe; L2 can reject, hide or expose existing data (new required/unique constraints on existing fields, narrowing, removals, grants) and needs a person's confirmation; L3 is blocked (e.g. deleting objects with data, changing immutable objects). Prefer L1.\n\
         - Every label may carry translations beside it: \"labels\": {{\"zh-CN\": \"…\"}} (objects, fields, states, transitions, pages, sections, roles, menu items); enum values read through \"valueLabels\": {{\"value\": {{\"en\": \"…\", \"zh-CN\": \"…\"}}}}. When the request names things in Chinese, write an English \"label\" and the Chinese in \"labels\".\n\
         - A string field numbered by the platform has \"autoNumber\": {{\"prefix\": \"INV-\", \"digits\": 6}}; users cannot set it, so scenarios must not write it.\n\
         - When you are given the module's current patch, return it refined: keep what still applies and add what the request asks for.\n\
         - \"tests\" holds test scenarios for what the patch changes; keep those that exist and add one per new field or object: \
           {{\"name\", \"object\", \"steps\": [{{\"create\": \"Customer\", \"as\": \"c\", \"data\": {{…}}, \"expect\": {{…}}}}, {{\"read\": \"c\"}}, \
           {{\"update\": {{\"record\": \"c\", \"data\": {{…}}}}, \"expect_error\": {{\"code\": \"validation\", \"field\": \"…\", \"rule\": \"min\"}}}}, \
           {{\"transition\": {{\"record\": \"c\", \"name\": \"…\"}}}}, {{\"list\": {{\"object\": \"…\", \"filter\": {{…}}}}, \"expect\": {{\"count\": 1}}}}]}}; \
           \"${{c.id}}\" refers to an earlier record; \"as_role\" acts as a business role. Cover each new constraint passing and failing.\n\n\
         The JSON Schema of a patch document:\n{schema}\n\n\
         Example (a field shown on the customer pages, and a menu item):\n{EXAMPLE_FIELD}\n\n\
         Example (a new object with pages, a menu item and a grant):\n{EXAMPLE_OBJECT}\n\n\
         Example (states and transitions):\n{EXAMPLE_STATE}\n",
        dsl = patch::DSL_VERSION,
    )
});

pub fn system() -> &'static str {
    &SYSTEM
}

/// The live spec as context: whole when small, else the object names plus the
/// objects (and their pages) that the request or the current patch mention.
pub fn spec_context(spec: &Spec, mentions: &str) -> String {
    let full = serde_json::to_string(spec).unwrap_or_default();
    if full.len() <= FULL_SPEC_LIMIT {
        return full;
    }
    let lower = mentions.to_lowercase();
    let touched: Vec<&String> = spec
        .objects
        .iter()
        .filter(|(n, o)| {
            lower.contains(&n.to_lowercase()) || lower.contains(&o.label.to_lowercase())
        })
        .map(|(n, _)| n)
        .collect();
    let objects: serde_json::Map<String, Value> = touched
        .iter()
        .filter_map(|n| {
            Some((
                (*n).clone(),
                serde_json::to_value(spec.objects.get(*n)?).ok()?,
            ))
        })
        .collect();
    let pages: serde_json::Map<String, Value> = spec
        .pages
        .iter()
        .filter(|(_, p)| touched.iter().any(|n| *n == p.object()))
        .filter_map(|(id, p)| Some((id.clone(), serde_json::to_value(p).ok()?)))
        .collect();
    let names: Vec<&String> = spec.objects.keys().collect();
    serde_json::json!({
        "note": "the spec is large: these are the objects the request mentions; all object names are listed",
        "objectNames": names, "objects": objects, "pages": pages,
        "roles": spec.roles.keys().collect::<Vec<_>>(),
    })
    .to_string()
}

/// The first message of a generation.
pub fn request(spec: &Spec, current: Option<&str>, earlier: &[String], prompt: &str) -> String {
    let mentions = format!("{prompt} {}", current.unwrap_or(""));
    let mut m = format!(
        "The live application spec:\n{}\n\n",
        spec_context(spec, &mentions)
    );
    if let Some(c) = current {
        m.push_str(&format!("The module's current patch:\n{c}\n\n"));
    }
    if !earlier.is_empty() {
        m.push_str("Earlier requests for this module, oldest first:\n");
        for e in earlier {
            m.push_str(&format!("- {e}\n"));
        }
        m.push('\n');
    }
    m.push_str(&format!("Request:\n{prompt}"));
    m
}

/// The message that sends a failed attempt back.
pub fn repair(report: &patch::Report, extracted: bool) -> String {
    if !extracted {
        return "Your answer did not contain a JSON object. Answer with the complete patch document as one JSON object only.".into();
    }
    let errors: Vec<Value> = report
        .errors
        .iter()
        .map(|e| serde_json::json!({ "code": e.code, "op": e.op, "path": e.path, "message": e.message }))
        .collect();
    format!(
        "The patch is invalid. The validator's report:\n{}\nFix every error and answer with the complete corrected patch document as one JSON object only.",
        serde_json::to_string_pretty(
            &serde_json::json!({ "valid": report.valid, "level": report.level, "errors": errors })
        )
        .unwrap_or_default()
    )
}

/// What a reply that cannot be saved sends back to the model: the validator's report,
/// or exactly what kind of answer it was instead.
pub fn follow_up(reading: &patch::answer::Reading) -> String {
    use patch::answer::Reading;
    const ONE_DOCUMENT: &str = "Answer with the complete patch document as one JSON object only.";
    match reading {
        Reading::Invalid(found) => repair(&found.report, true),
        Reading::NotAPatch(kind) => format!("{} {ONE_DOCUMENT}", kind.explain()),
        Reading::CutOff => format!(
            "Your document was cut off before it ended, so it cannot be used. Send it again, whole; if it is long, leave out descriptions and labels you do not need. {ONE_DOCUMENT}"
        ),
        Reading::Ambiguous(found) => format!(
            "Your reply holds {} different patch documents and did not say which one is meant. {ONE_DOCUMENT}",
            found.len()
        ),
        Reading::Answer(_) | Reading::Nothing => {
            repair(&patch::Report::rejected(Vec::new()), false)
        }
    }
}

/// The question when a reply holds several different valid documents.
pub fn which(candidates: &[patch::answer::Found]) -> String {
    let mut m = format!(
        "Your reply holds {} different valid patch documents:\n",
        candidates.len()
    );
    for (i, c) in candidates.iter().enumerate() {
        let title = serde_json::from_str::<Value>(&c.json)
            .ok()
            .and_then(|d| d["title"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let ops: Vec<&str> = c
            .report
            .operations
            .iter()
            .map(|o| o.summary.as_str())
            .collect();
        m.push_str(&format!("{}. {title}: {}\n", i + 1, ops.join("; ")));
    }
    m.push_str("Which one does what was asked? Answer with its number only.");
    m
}

/// The document a model picked by number (0-based), if its answer names exactly one.
pub fn picked(answer: &str, count: usize) -> Option<usize> {
    let numbers: Vec<usize> = answer
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .filter(|n| (1..=count).contains(n))
        .collect();
    match numbers.as_slice() {
        [n] => Some(n - 1),
        [n, rest @ ..] if rest.iter().all(|m| m == n) => Some(n - 1),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::picked;

    #[test]
    fn a_choice_names_exactly_one_document() {
        assert_eq!(picked("2", 2), Some(1));
        assert_eq!(picked("Document 1.", 2), Some(0));
        assert_eq!(picked("**1** — the first one (1)", 2), Some(0));
        assert_eq!(picked("1 or 2", 2), None);
        assert_eq!(picked("3", 2), None);
        assert_eq!(picked("the first", 2), None);
    }
}

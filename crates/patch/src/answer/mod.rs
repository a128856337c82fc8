//! Reading a model's reply (docs/module-development.md, "How the answer is read"):
//! every document in it is a candidate; what needs no model is fixed locally and
//! recorded; the answer is the one valid patch document that is not introduced as an
//! example. Two different valid documents are never chosen between silently, and a
//! document cut off is never completed here.

mod candidates;
mod lenient;
mod shape;

use crate::report::Report;
use serde::Serialize;
use serde_json::Value;
use spec::Spec;
use std::collections::BTreeSet;

pub use lenient::{Unreadable, strict as lenient_json};

/// A fix made to a reply without asking the model, recorded on the version it became
/// (by code; the workspace has each code's words in its catalogs, `repair.<code>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Repair {
    ByteOrderMark,
    ReasoningBlock,
    Comments,
    TrailingCommas,
    SingleQuotes,
    TypographicQuotes,
    UnquotedKeys,
    DocumentInString,
    Wrapper,
    BareOperations,
    KeyNames,
    ScopeNames,
    ObjectNameCase,
    DslVersion,
    Title,
}

impl Repair {
    pub fn as_str(self) -> &'static str {
        match self {
            Repair::ByteOrderMark => "byte_order_mark",
            Repair::ReasoningBlock => "reasoning_block",
            Repair::Comments => "comments",
            Repair::TrailingCommas => "trailing_commas",
            Repair::SingleQuotes => "single_quotes",
            Repair::TypographicQuotes => "typographic_quotes",
            Repair::UnquotedKeys => "unquoted_keys",
            Repair::DocumentInString => "document_in_string",
            Repair::Wrapper => "wrapper",
            Repair::BareOperations => "bare_operations",
            Repair::KeyNames => "key_names",
            Repair::ScopeNames => "scope_names",
            Repair::ObjectNameCase => "object_name_case",
            Repair::DslVersion => "dsl_version",
            Repair::Title => "title",
        }
    }
}

/// JSON that is no patch document, as the model is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAPatch {
    /// A JSON Patch (RFC 6902): `op`/`path` items.
    JsonPatch,
    /// A whole application spec (`objects`, `pages`, …) instead of changes to it.
    WholeSpec,
    /// Text in JSON, with no operations.
    Prose,
    /// Some other JSON.
    Other,
}

impl NotAPatch {
    pub fn explain(self) -> &'static str {
        match self {
            NotAPatch::JsonPatch => {
                "Your reply is a JSON Patch (RFC 6902, items with \"op\" and \"path\"), not a modgate patch document. Express the change as {\"dsl\": \"modgate.patch/v1\", \"title\": …, \"operations\": [{\"scope\", \"op\", \"target\", \"value\"}]}."
            }
            NotAPatch::WholeSpec => {
                "Your reply is a whole application spec (it has \"objects\"/\"pages\" at the top), not a patch. Send only the changes, as a modgate patch document with \"operations\"."
            }
            NotAPatch::Prose => {
                "Your reply is text inside JSON, with no \"operations\". Send the patch document itself."
            }
            NotAPatch::Other => {
                "Your reply holds JSON that is not a modgate patch document (no \"operations\" list). Send the patch document itself."
            }
        }
    }
}

/// A patch document read from a reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// Strict, pretty-printed JSON.
    pub json: String,
    pub repairs: Vec<Repair>,
    /// What validating it against the spec found.
    pub report: Report,
}

/// What a reply amounts to.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    /// The one valid patch document that answers.
    Answer(Found),
    /// Different valid documents, none of them an example: the model must say which.
    Ambiguous(Vec<Found>),
    /// A patch document with errors: the model gets its report.
    Invalid(Found),
    /// JSON, but no patch document.
    NotAPatch(NotAPatch),
    /// The document ends before it closes.
    CutOff,
    /// No document at all.
    Nothing,
}

/// Reads `reply` (to `request`) against `spec`.
pub fn read(spec: &Spec, request: &str, reply: &str) -> Reading {
    let mut global = BTreeSet::new();
    let mut text = clean(reply, &mut global);
    // The whole reply one JSON string: the document is inside it.
    if let Ok(inner) = serde_json::from_str::<String>(text.trim()) {
        text = inner;
        global.insert(Repair::DocumentInString);
    }
    let mut valid: Vec<Found> = Vec::new();
    let mut invalid: Option<Found> = None;
    let mut not_a_patch: Option<NotAPatch> = None;
    let mut cut_off = false;
    for c in candidates::find(&text) {
        let mut fixes = global.clone();
        let body = c.text.trim_start_matches('\u{FEFF}');
        if body.len() != c.text.len() {
            fixes.insert(Repair::ByteOrderMark);
        }
        let strict = match lenient::strict(body) {
            Ok((s, more)) => {
                fixes.extend(more);
                s
            }
            Err(Unreadable::CutOff) => {
                cut_off |= !c.example;
                continue;
            }
            Err(Unreadable::Invalid(_)) => {
                cut_off |= c.open_ended && !c.example;
                continue;
            }
        };
        let Ok(value) = serde_json::from_str::<Value>(&strict) else {
            continue;
        };
        let doc = match shape::to_document(spec, request, value, &mut fixes) {
            Ok(doc) => doc,
            Err(n) => {
                if !c.example && not_a_patch.is_none_or(|_| n != NotAPatch::Other) {
                    not_a_patch = Some(n);
                }
                continue;
            }
        };
        let json = serde_json::to_string_pretty(&doc).unwrap_or_default();
        let report = crate::dry_run(spec, json.as_bytes()).report;
        let found = Found {
            json,
            repairs: fixes.into_iter().collect(),
            report,
        };
        match (found.report.valid, c.example) {
            (true, false) => {
                if !valid.iter().any(|v| same_document(&v.json, &found.json)) {
                    valid.push(found);
                }
            }
            (false, false) => invalid = Some(found),
            // Never an example, valid or not.
            (_, true) => {}
        }
    }
    match valid.len() {
        1 => return Reading::Answer(valid.remove(0)),
        n if n > 1 => return Reading::Ambiguous(valid),
        _ => {}
    }
    if let Some(found) = invalid {
        return Reading::Invalid(found);
    }
    if cut_off {
        return Reading::CutOff;
    }
    if let Some(n) = not_a_patch {
        return Reading::NotAPatch(n);
    }
    Reading::Nothing
}

/// Two documents that differ only in their wording around the operations are one.
fn same_document(a: &str, b: &str) -> bool {
    let (Ok(a), Ok(b)) = (
        serde_json::from_str::<Value>(a),
        serde_json::from_str::<Value>(b),
    ) else {
        return a == b;
    };
    a.get("operations") == b.get("operations") && a.get("tests") == b.get("tests")
}

/// The reply without a byte-order mark and the model's reasoning blocks.
fn clean(reply: &str, fixes: &mut BTreeSet<Repair>) -> String {
    let mut text = reply.to_owned();
    if text.starts_with('\u{FEFF}') {
        text = text.trim_start_matches('\u{FEFF}').to_owned();
        fixes.insert(Repair::ByteOrderMark);
    }
    for (open, close) in [
        ("<think>", "</think>"),
        ("<thinking>", "</thinking>"),
        ("<reasoning>", "</reasoning>"),
    ] {
        while let Some(start) = text.find(open) {
            let Some(end) = text[start..].find(close) else {
                break;
            };
            text.replace_range(start..start + end + close.len(), "");
            fixes.insert(Repair::ReasoningBlock);
        }
    }
    text
}

//! The defective-reply table: realistic ways models get a patch reply wrong, and what
//! the gateway makes of each without a model call. Prints how many end valid with
//! one call (fixed locally), need a second (the model gets a specific question or
//! report), or can never be used.

use patch::answer::{NotAPatch, Reading, Repair, read};
use serde_json::{Value, json};

const REQUEST: &str = "Add loyalty points to customers";

fn answer() -> Value {
    json!({
        "dsl": "modgate.patch/v1",
        "title": "Loyalty points",
        "operations": [{
            "scope": "object", "op": "add",
            "target": { "object": "Customer", "field": "loyaltyPoints" },
            "value": { "type": "integer", "label": "Loyalty points", "min": 0, "default": 0 }
        }]
    })
}

fn other() -> Value {
    json!({
        "dsl": "modgate.patch/v1",
        "title": "VIP flag",
        "operations": [{
            "scope": "object", "op": "add",
            "target": { "object": "Customer", "field": "vip" },
            "value": { "type": "boolean", "label": "VIP" }
        }]
    })
}

fn a() -> String {
    serde_json::to_string_pretty(&answer()).unwrap()
}

fn b() -> String {
    serde_json::to_string_pretty(&other()).unwrap()
}

fn ops() -> String {
    serde_json::to_string_pretty(&answer()["operations"]).unwrap()
}

#[derive(Debug)]
enum Expect {
    /// The intended document, fixed with (at least) these repairs.
    Answer(&'static [Repair]),
    Ambiguous,
    Invalid,
    NotAPatch(NotAPatch),
    CutOff,
    Nothing,
}

fn table() -> Vec<(&'static str, String, Expect)> {
    use Expect::*;
    use Repair::*;
    let fence = |s: &str| format!("```json\n{s}\n```");
    vec![
        ("bare document", a(), Answer(&[])),
        ("fenced with prose", format!("Sure! Here is the patch:\n{}\nIt adds one field.", fence(&a())), Answer(&[])),
        ("example, then the answer", format!("For example, a patch looks like:\n{}\nAnd here is yours:\n{}", fence(&b()), fence(&a())), Answer(&[])),
        ("answer, then a summary block", format!("{}\nSummary:\n{}", fence(&a()), fence(r#"{"summary": "adds loyaltyPoints to Customer", "risk": "low"}"#)), Answer(&[])),
        ("two alternatives", format!("Option 1:\n{}\nOption 2:\n{}", fence(&a()), fence(&b())), Ambiguous),
        ("a correction after a first try", format!("{}\nWait, better:\n{}", fence(&b()), fence(&a())), Ambiguous),
        ("the answer twice", format!("{}\nAgain, the final patch:\n{}", fence(&a()), a()), Answer(&[])),
        ("trailing commas", a().replace("\"default\": 0", "\"default\": 0,").replace("\n  ]", ",\n  ]"), Answer(&[TrailingCommas])),
        ("line comments", a().replace("\"operations\": [", "// the change\n  \"operations\": [ // one field"), Answer(&[Comments])),
        ("block comments", a().replace("\"title\"", "/* name */ \"title\""), Answer(&[Comments])),
        ("hash comments", a().replace("\"operations\": [", "# the change\n  \"operations\": ["), Answer(&[Comments])),
        ("single quotes", a().replace('"', "'"), Answer(&[SingleQuotes])),
        ("typographic quotes", a().replacen('"', "\u{201C}", 1).replacen('"', "\u{201D}", 1), Answer(&[TypographicQuotes])),
        ("typographic quotes throughout", curly(&a()), Answer(&[TypographicQuotes])),
        ("unquoted keys", unquote_keys(&a()), Answer(&[UnquotedKeys])),
        ("byte-order mark", format!("\u{FEFF}{}", a()), Answer(&[ByteOrderMark])),
        ("byte-order mark inside a fence", format!("```json\n\u{FEFF}{}\n```", a()), Answer(&[ByteOrderMark])),
        ("think block holding a draft", format!("<think>Maybe {}? No, loyalty points.</think>\n{}", b(), fence(&a())), Answer(&[ReasoningBlock])),
        ("thinking block", format!("<thinking>the user wants points</thinking>{}", a()), Answer(&[ReasoningBlock])),
        ("document in a JSON string", serde_json::to_string(&a()).unwrap(), Answer(&[DocumentInString])),
        ("wrapped in patch", format!("{{\"patch\": {}}}", a()), Answer(&[Wrapper])),
        ("wrapped in result", format!("{{\"result\": {}, \"explanation\": \"adds a field\"}}", a()), Answer(&[Wrapper])),
        ("wrapped string", format!("{{\"patch\": {}}}", serde_json::to_string(&a()).unwrap()), Answer(&[Wrapper, DocumentInString])),
        ("bare list of operations", ops(), Answer(&[BareOperations])),
        ("bare list in single quotes", ops().replace('"', "'"), Answer(&[BareOperations, SingleQuotes])),
        ("operation instead of operations", a().replace("\"operations\"", "\"operation\""), Answer(&[KeyNames])),
        ("ops instead of operations", a().replace("\"operations\"", "\"ops\""), Answer(&[KeyNames])),
        ("scope in the plural", a().replace("\"scope\": \"object\"", "\"scope\": \"objects\""), Answer(&[ScopeNames])),
        ("scope capitalised", a().replace("\"scope\": \"object\"", "\"scope\": \"Object\""), Answer(&[ScopeNames])),
        ("op in capitals", a().replace("\"op\": \"add\"", "\"op\": \"ADD\""), Answer(&[KeyNames])),
        ("action instead of op", a().replace("\"op\": \"add\"", "\"action\": \"add\""), Answer(&[KeyNames])),
        ("target keys capitalised", a().replace("\"object\": \"Customer\"", "\"Object\": \"Customer\""), Answer(&[KeyNames])),
        ("object name in lower case", a().replace("\"Customer\"", "\"customer\""), Answer(&[ObjectNameCase])),
        ("no dsl version", a().replace("\"dsl\": \"modgate.patch/v1\",", ""), Answer(&[DslVersion])),
        ("no title", a().replace("\"title\": \"Loyalty points\",", ""), Answer(&[Title])),
        ("several defects at once", unquote_keys(&a()).replace("default: 0", "default: 0, // start at zero\n"), Answer(&[Comments, TrailingCommas, UnquotedKeys])),
        ("Chinese prose around a fence", format!("好的，以下是补丁：\n{}\n希望有帮助。", fence(&a())), Answer(&[])),
        ("Chinese example, then the answer", format!("例如：\n{}\n下面是您的补丁：\n{}", fence(&b()), fence(&a())), Answer(&[])),
        ("fence labelled example", format!("```json example\n{}\n```\n```json\n{}\n```", b(), a()), Answer(&[])),
        ("an example after the answer", format!("{}\nFor instance, a flag would look like: {}", fence(&a()), b()), Answer(&[])),
        ("closing fence missing", format!("```json\n{}", a()), Answer(&[])),
        ("upper-case fence label", format!("```JSON\n{}\n```", a()), Answer(&[])),
        ("cut off in an object", a()[..a().len() - 30].to_owned(), CutOff),
        ("cut off in a string", format!("```json\n{}", &a()[..a().find("Loyalty points\",").unwrap() + 6]), CutOff),
        ("JSON Patch (RFC 6902)", r#"[{"op": "add", "path": "/objects/Customer/fields/loyaltyPoints", "value": {"type": "integer"}}]"#.into(), NotAPatch(patch::answer::NotAPatch::JsonPatch)),
        ("a whole spec", r#"{"objects": {"Customer": {"label": "Customer", "fields": {}}}, "pages": {}}"#.into(), NotAPatch(patch::answer::NotAPatch::WholeSpec)),
        ("prose in JSON", r#"{"answer": "I have added a loyaltyPoints field to Customer."}"#.into(), NotAPatch(patch::answer::NotAPatch::Prose)),
        ("a patch with an unknown field type", a().replace("\"integer\"", "\"int32\""), Invalid),
        ("a patch on an object that is not there", a().replace("\"Customer\"", "\"Client\""), Invalid),
        ("no JSON at all", "I'm sorry, I can't help with modifying the CRM.".into(), Nothing),
    ]
}

/// Every JSON string quote made typographic.
fn curly(s: &str) -> String {
    let mut out = String::new();
    let mut open = true;
    for c in s.chars() {
        if c == '"' {
            out.push(if open { '\u{201C}' } else { '\u{201D}' });
            open = !open;
        } else {
            out.push(c);
        }
    }
    out
}

/// `"key":` written as `key:`.
fn unquote_keys(s: &str) -> String {
    let mut out = String::new();
    for line in s.lines() {
        let t = line.trim_start();
        let indent = &line[..line.len() - t.len()];
        match t.strip_prefix('"').and_then(|r| r.split_once("\": ")) {
            Some((key, rest)) if key.chars().all(|c| c.is_ascii_alphanumeric()) => {
                out.push_str(&format!("{indent}{key}: {rest}\n"))
            }
            _ => out.push_str(&format!("{line}\n")),
        }
    }
    out
}

#[test]
fn the_defective_reply_table() {
    let spec = spec::base_spec();
    let cases = table();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let (mut one, mut two, mut never) = (0, 0, 0);
    let mut wrong = Vec::new();
    for (name, reply, expect) in &cases {
        let got = read(&spec, REQUEST, reply);
        let ok = match (expect, &got) {
            (Expect::Answer(repairs), Reading::Answer(found)) => {
                let doc: Value = serde_json::from_str(&found.json).unwrap();
                doc["operations"] == answer()["operations"]
                    && repairs.iter().all(|r| found.repairs.contains(r))
            }
            (Expect::Ambiguous, Reading::Ambiguous(c)) => c.len() == 2,
            (Expect::Invalid, Reading::Invalid(f)) => !f.report.valid,
            (Expect::NotAPatch(k), Reading::NotAPatch(n)) => k == n,
            (Expect::CutOff, Reading::CutOff) => true,
            (Expect::Nothing, Reading::Nothing) => true,
            _ => false,
        };
        if !ok {
            wrong.push(format!("{name}: expected {expect:?}, got {got:?}"));
        }
        match got {
            Reading::Answer(_) => one += 1,
            Reading::Nothing => never += 1,
            _ => two += 1,
        }
    }
    println!(
        "defective replies: {} — valid with one call {one}, a second call {two}, never {never}",
        cases.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(
        one * 3 >= cases.len() * 2,
        "one call: {one} of {}",
        cases.len()
    );
}

#[test]
fn an_example_is_never_the_answer_even_when_it_is_the_only_valid_document() {
    let spec = spec::base_spec();
    let reply = format!(
        "For example:\n```json\n{}\n```\nYour patch:\n```json\n{}\n```",
        b(),
        a().replace("\"integer\"", "\"int32\"")
    );
    assert!(matches!(read(&spec, REQUEST, &reply), Reading::Invalid(_)));
}

#[test]
fn a_bare_list_takes_the_request_as_its_title() {
    let spec = spec::base_spec();
    let Reading::Answer(found) = read(&spec, REQUEST, &ops()) else {
        panic!("not read");
    };
    let doc: Value = serde_json::from_str(&found.json).unwrap();
    assert_eq!(doc["title"], REQUEST);
    assert_eq!(doc["dsl"], "modgate.patch/v1");
}

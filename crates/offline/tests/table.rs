//! The request table (`tests/request_table.json`): English and Chinese requests with
//! the exact operations the engine must answer, or the refusal it must give. Each
//! answer must also validate against the CRM spec. Prints the engine's share.
//!
//! To add a request: append `{"request": "…"}` to the table and run with
//! `UPDATE_REQUEST_TABLE=1` to write what the engine answers — then read it through
//! before committing: the table is the specification, not a record of output.

use serde_json::{Value, json};

const TABLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/request_table.json");

fn answer(request: &str) -> Value {
    let base = spec::base_spec();
    match offline::respond(&base, None, request) {
        Ok(doc) => {
            let v = patch::validate(&base, &doc);
            assert!(v.report.valid, "{request}: {:?}", v.report.errors);
            let mut out = json!({ "request": request, "operations": doc.operations });
            if let Some(d) = doc.description {
                out["note"] = json!(d);
            }
            out
        }
        Err(r) => json!({
            "request": request,
            "refused": r.message.lines().next().unwrap_or_default(),
        }),
    }
}

#[test]
fn the_request_table() {
    let table: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(TABLE).unwrap()).unwrap();
    if std::env::var_os("UPDATE_REQUEST_TABLE").is_some() {
        let updated: Vec<Value> = table
            .iter()
            .map(|e| answer(e["request"].as_str().unwrap()))
            .collect();
        std::fs::write(
            TABLE,
            serde_json::to_string_pretty(&updated).unwrap() + "\n",
        )
        .unwrap();
        return;
    }
    let chinese = table
        .iter()
        .filter(|e| offline::is_chinese(e["request"].as_str().unwrap()))
        .count();
    assert!(table.len() >= 80, "{} requests", table.len());
    assert!(
        chinese * 2 >= table.len(),
        "{chinese} of {} in Chinese",
        table.len()
    );
    let mut wrong = Vec::new();
    let mut answered = 0;
    for expected in &table {
        let got = answer(expected["request"].as_str().unwrap());
        if got.get("operations").is_some() {
            answered += 1;
        }
        if &got != expected {
            wrong.push(format!(
                "{}\n  expected {expected}\n  got      {got}",
                expected["request"]
            ));
        }
    }
    println!(
        "offline engine: {answered} of {} requests answered ({chinese} in Chinese), {} refused as expected",
        table.len(),
        table.len() - answered
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

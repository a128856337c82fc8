//! What a model answers is untrusted: reading a patch out of it must never panic,
//! the lenient reader's output is strict JSON, and whatever is taken as the answer is
//! a valid patch.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patch::answer::{Reading, lenient_json, read};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok((json, _)) = lenient_json(text) {
            assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok());
        }
        let spec = spec::base_spec();
        if let Reading::Answer(found) = read(&spec, "fuzz", text) {
            assert!(found.report.valid);
            assert!(patch::check(&spec, found.json.as_bytes()).report.valid);
        }
        let _ = offline::respond(&spec, None, text);
    }
});

//! What a model answers is untrusted: extracting the patch from it must never panic,
//! and whatever is extracted is JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(json) = patch::extract_json(text) {
            assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok());
            let _ = patch::check(&spec::base_spec(), json.as_bytes());
        }
        let _ = offline::respond(&spec::base_spec(), None, text);
    }
});

//! Evaluation corpora come from administrators' files and request bodies: reading one
//! never panics, and every expected operation of what is read can be matched against
//! any answer without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(corpus) = eval::Corpus::parse("fuzz.yaml", text)
    {
        assert!(!corpus.cases.is_empty());
        for case in &corpus.cases {
            let doc = case.start.clone().unwrap_or_default();
            let missing = eval::unmatched(&case.expect.operations, &doc);
            assert!(missing.len() <= case.expect.operations.len());
        }
    }
});

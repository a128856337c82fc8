//! Scenario files (and a patch's `tests`, which models write) are untrusted: reading
//! them never panics, and whatever is read runs in its sandbox without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(list) = scenario::parse("fuzz.yaml", text)
    {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let spec = spec::base_spec();
        for s in list {
            let r = rt.block_on(scenario::run::run_scenario(&spec, &s));
            assert!(r.status == "passed" || r.status == "failed");
        }
    }
});

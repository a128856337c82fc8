//! Spec parsing and the integrity check on arbitrary text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(s) = spec::parse(text)
    {
        let _ = spec::check(&s);
        for name in s.objects.keys() {
            let _ = spec::record_schema(&s, name);
        }
    }
});

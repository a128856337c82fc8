//! parse → validate → apply (dry run with diff) on arbitrary bytes, against the base CRM.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static BASE: LazyLock<spec::Spec> = LazyLock::new(spec::base_spec);

fuzz_target!(|data: &[u8]| {
    let d = patch::dry_run(&BASE, data);
    // A valid report always comes with a spec that passes integrity.
    if d.report.valid {
        let s = d.spec.expect("valid patches yield a spec");
        assert!(spec::check(&s).is_empty());
    } else {
        assert!(d.spec.is_none());
    }
});

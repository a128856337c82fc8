//! Bundles arrive from other instances and from files: reading one as JSON and
//! verifying it against a key never panics, and whatever verifies was signed by it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = bundle::KeyPair::from_secret([5; 32]);
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = bundle::canonical(&v);
        let _ = bundle::verify(&v, &key.public_b64());
        if v.is_object() {
            let signed = bundle::sign(&v, &key).unwrap();
            assert!(bundle::verify(&signed, &key.public_b64()).is_ok());
        }
    }
});

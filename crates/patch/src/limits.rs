//! Limits checked on the raw bytes, before any parsing: an attacker (or a runaway
//! model) cannot make validation expensive.

/// Largest accepted patch document.
pub const MAX_BYTES: usize = 1024 * 1024;
/// Deepest accepted nesting of arrays and objects.
pub const MAX_DEPTH: usize = 32;
/// Most operations in one patch.
pub const MAX_OPERATIONS: usize = 500;

/// The nesting depth of JSON text, scanning bytes once (strings skipped, escapes
/// honoured). Stops counting past `MAX_DEPTH + 1`.
pub fn depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_str, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_str {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    max = depth;
                    if max > MAX_DEPTH {
                        return max;
                    }
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_structure_not_strings() {
        assert_eq!(depth(b"{}"), 1);
        assert_eq!(depth(br#"{"a":[1,{"b":2}]}"#), 3);
        assert_eq!(depth(br#"{"a":"[[[[{{{{"}"#), 1);
        assert_eq!(depth(br#"{"a":"\"[[["}"#), 1);
        assert_eq!(depth(b"1"), 0);
        let deep = "[".repeat(1000);
        assert_eq!(depth(deep.as_bytes()), MAX_DEPTH + 1);
    }
}

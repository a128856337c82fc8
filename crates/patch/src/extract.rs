//! Finding the patch document in what a model wrote: a fenced code block, or the
//! outermost JSON object in prose. Models wrap answers in fences and explanations
//! however often they are told not to.

/// The JSON object most likely to be the patch: the first fenced block (```json or
/// plain ```) that holds a JSON object, else the first balanced `{…}` in the text
/// that parses as JSON (preferring one with `"operations"`). `None` when there is none.
pub fn extract_json(text: &str) -> Option<String> {
    for block in fenced_blocks(text) {
        let t = block.trim();
        if t.starts_with('{') && serde_json::from_str::<serde_json::Value>(t).is_ok() {
            return Some(t.to_owned());
        }
    }
    let candidates = balanced_objects(text);
    candidates
        .iter()
        .find(|c| c.contains("\"operations\""))
        .or_else(|| candidates.first())
        .map(|c| c.to_string())
}

fn fenced_blocks(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        // Skip the info string (`json`, `JSON`, …) up to the line end.
        let body_start = after.find('\n').map(|i| i + 1).unwrap_or(after.len());
        let body = &after[body_start..];
        match body.find("```") {
            Some(end) => {
                out.push(&body[..end]);
                rest = &body[end + 3..];
            }
            None => {
                out.push(body);
                break;
            }
        }
    }
    out
}

/// Every top-level balanced `{…}` that parses as JSON, in order. Braces inside JSON
/// strings do not count.
fn balanced_objects(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'{' {
            i += 1;
            continue;
        }
        let (mut depth, mut in_str, mut esc) = (0usize, false, false);
        let mut end = None;
        for (j, &b) in bytes.iter().enumerate().skip(i) {
            if in_str {
                match (esc, b) {
                    (true, _) => esc = false,
                    (false, b'\\') => esc = true,
                    (false, b'"') => in_str = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_str = true,
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        match end {
            Some(j) => {
                let cand = &text[i..=j];
                if serde_json::from_str::<serde_json::Value>(cand).is_ok() {
                    out.push(cand);
                    i = j + 1;
                } else {
                    i += 1;
                }
            }
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fenced_prose_and_bare() {
        let doc = r#"{"dsl":"modgate.patch/v1","title":"t","operations":[]}"#;
        assert_eq!(extract_json(doc).unwrap(), doc);
        let fenced = format!("Here is the patch:\n```json\n{doc}\n```\nIt adds nothing.");
        assert_eq!(extract_json(&fenced).unwrap(), doc);
        let plain_fence = format!("```\n{doc}\n```");
        assert_eq!(extract_json(&plain_fence).unwrap(), doc);
        let prose = format!("Sure! {{not json}} The document {doc} should work. {{\"x\":1}}");
        assert_eq!(extract_json(&prose).unwrap(), doc);
        let braces_in_strings =
            r#"Result: {"dsl":"modgate.patch/v1","title":"a } b {","operations":[]} done"#;
        assert!(extract_json(braces_in_strings).unwrap().ends_with("[]}"));
        let unclosed = format!("```json\n{doc}");
        assert_eq!(extract_json(&unclosed).unwrap(), doc);
    }

    #[test]
    fn nothing_to_find() {
        assert_eq!(extract_json("I cannot help with that."), None);
        assert_eq!(extract_json("{ broken"), None);
        assert_eq!(extract_json(""), None);
    }
}

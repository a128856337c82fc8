//! Where documents sit in a reply: every fenced block that holds an object or an
//! array, and every balanced `{…}` or `[{…}]` in the prose around them, in order, each
//! with whether the words before it introduce it as an example.

/// One place in a reply that may hold the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate<'a> {
    pub text: &'a str,
    /// Introduced as an illustration ("for example", "例如", a fence labelled so).
    pub example: bool,
    /// It runs to the end of the reply without closing.
    pub open_ended: bool,
}

/// Words that introduce an illustration rather than the answer, lower case.
const EXAMPLE_MARKERS: &[&str] = &[
    "for example",
    "for instance",
    "an example",
    "example:",
    "e.g.",
    "looks like",
    "sample",
    "template",
    "例如",
    "比如",
    "示例",
    "样例",
    "举例",
    "格式如下",
];

/// How far before a document its introduction is looked for.
const LEAD_CHARS: usize = 160;

pub fn find(text: &str) -> Vec<Candidate<'_>> {
    let mut out = Vec::new();
    let mut prose_start = 0;
    let mut rest_at = 0;
    while let Some(rel) = text[rest_at..].find("```") {
        let fence = rest_at + rel;
        in_prose(text, prose_start, fence, &mut out);
        let after = fence + 3;
        let info_end = text[after..].find('\n').map_or(text.len(), |i| after + i);
        let info = text[after..info_end].trim().to_lowercase();
        let body_start = (info_end + 1).min(text.len());
        let (body_end, next) = match text[body_start..].find("```") {
            Some(e) => (body_start + e, body_start + e + 3),
            None => (text.len(), text.len()),
        };
        let body = text[body_start..body_end].trim();
        let bare = body.trim_start_matches('\u{FEFF}');
        if bare.starts_with('{') || bare.starts_with('[') {
            let lead = lead(text, prose_start, fence);
            out.push(Candidate {
                text: body,
                example: info.contains("example") || introduces_example(lead),
                open_ended: body_end == text.len() && next == text.len(),
            });
        }
        prose_start = next;
        rest_at = next;
        if next >= text.len() {
            break;
        }
    }
    in_prose(text, prose_start, text.len(), &mut out);
    out
}

/// The words just before `at`, back to the previous document at most.
fn lead(text: &str, from: usize, at: usize) -> &str {
    let mut start = at.saturating_sub(LEAD_CHARS).max(from);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..at]
}

fn introduces_example(lead: &str) -> bool {
    // Only the sentence that leads in: "For example … And here is yours:" introduces
    // the answer, not an example.
    let last = lead
        .rsplit(['.', '!', '?', '。', '！', '？', '\n'])
        .find(|s| !s.trim().is_empty())
        .unwrap_or("")
        .to_lowercase();
    EXAMPLE_MARKERS.iter().any(|m| last.contains(m))
}

/// Balanced documents in the prose `text[from..to]`.
fn in_prose<'a>(text: &'a str, from: usize, to: usize, out: &mut Vec<Candidate<'a>>) {
    let bytes = text.as_bytes();
    let mut i = from;
    let mut last_end = from;
    while i < to {
        let b = bytes[i];
        let starts = b == b'{' || (b == b'[' && text[i + 1..to].trim_start().starts_with('{'));
        if !starts {
            i += 1;
            continue;
        }
        match balanced_end(&text[i..to]) {
            Some(len) => {
                let lead = lead(text, last_end, i);
                out.push(Candidate {
                    text: &text[i..i + len],
                    example: introduces_example(lead),
                    open_ended: false,
                });
                i += len;
                last_end = i;
            }
            None => {
                // Open to the end: a document cut off, if it looks like one.
                let rest = &text[i..to];
                if rest.contains('"') || rest.contains(':') {
                    let lead = lead(text, last_end, i);
                    out.push(Candidate {
                        text: rest.trim_end(),
                        example: introduces_example(lead),
                        open_ended: true,
                    });
                }
                return;
            }
        }
    }
}

/// The length of the balanced object or array `s` starts with; quotes of any kind
/// hide brackets. `None` when it never closes.
fn balanced_end(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if let Some(q) = quote {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, c) if c == q || (q == '\u{201D}' && c == '\u{201C}') => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => quote = Some('"'),
            '\u{201C}' | '\u{201D}' => quote = Some('\u{201D}'),
            // An apostrophe in prose is no quote: only one that opens a value or key.
            '\'' if prev_significant(s, i).is_some_and(|p| matches!(p, '{' | '[' | ',' | ':')) => {
                quote = Some('\'')
            }
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + c.len_utf8());
                }
            }
            _ => {}
        }
    }
    None
}

fn prev_significant(s: &str, at: usize) -> Option<char> {
    s[..at].chars().rev().find(|c| !c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(reply: &str) -> Vec<(&str, bool, bool)> {
        find(reply)
            .into_iter()
            .map(|c| (c.text, c.example, c.open_ended))
            .collect()
    }

    #[test]
    fn fenced_and_bare_documents_in_order() {
        let reply = "Intro {\"a\": 1} then\n```json\n{\"b\": 2}\n```\nand [{\"c\": 3}] end [1].";
        assert_eq!(
            texts(reply),
            vec![
                ("{\"a\": 1}", false, false),
                ("{\"b\": 2}", false, false),
                ("[{\"c\": 3}]", false, false)
            ]
        );
    }

    #[test]
    fn an_example_is_marked_and_the_answer_after_it_is_not() {
        let reply = "For example, a patch looks like:\n```json\n{\"x\": 1}\n```\nAnd here is yours:\n```json\n{\"y\": 2}\n```";
        assert_eq!(
            texts(reply),
            vec![("{\"x\": 1}", true, false), ("{\"y\": 2}", false, false)]
        );
        let zh = "例如：{\"x\": 1}。下面是补丁：{\"y\": 2}";
        assert_eq!(
            texts(zh),
            vec![("{\"x\": 1}", true, false), ("{\"y\": 2}", false, false)]
        );
        let labelled = "```json example\n{\"x\": 1}\n```";
        assert_eq!(texts(labelled), vec![("{\"x\": 1}", true, false)]);
    }

    #[test]
    fn an_unclosed_document_is_open_ended() {
        assert_eq!(
            texts("Here: {\"a\": [1, 2"),
            vec![("{\"a\": [1, 2", false, true)]
        );
        assert_eq!(
            texts("```json\n{\"a\": 1"),
            vec![("{\"a\": 1", false, true)]
        );
        assert_eq!(texts("I can't do that {sadly"), vec![]);
    }

    #[test]
    fn quotes_hide_brackets_but_apostrophes_do_not_open_strings() {
        assert_eq!(
            texts("It's here: {'a': '}'} done"),
            vec![("{'a': '}'}", false, false)]
        );
    }
}

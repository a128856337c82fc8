//! Reading JSON the way models write it: comments, trailing commas, single or
//! typographic quotes and unquoted keys are rewritten into strict JSON, each kind of
//! fix recorded. A document that ends before it closes is reported as cut off: only
//! the model can say what the rest was.

use super::Repair;
use std::collections::BTreeSet;

/// Why a text could not be read as JSON even leniently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// It ends inside a string, a comment or an open object or array.
    CutOff,
    /// Something no rewrite makes JSON (at this character offset).
    Invalid(usize),
}

/// The strict JSON text for `src`, and the fixes it took.
pub fn strict(src: &str) -> Result<(String, BTreeSet<Repair>), Unreadable> {
    let mut out = String::with_capacity(src.len() + 16);
    let mut fixes = BTreeSet::new();
    let chars: Vec<(usize, char)> = src.char_indices().collect();
    let mut depth: Vec<char> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        match c {
            '"' => {
                let end = string_end(&chars, i, '"').ok_or(Unreadable::CutOff)?;
                out.push_str(&src[at..chars[end].0 + 1]);
                i = end + 1;
            }
            '\'' | '\u{201C}' | '\u{201D}' | '\u{2018}' | '\u{2019}' => {
                let closer = match c {
                    '\'' => '\'',
                    '\u{2018}' | '\u{2019}' => '\u{2019}',
                    _ => '\u{201D}',
                };
                let end = string_end(&chars, i, closer).ok_or(Unreadable::CutOff)?;
                let inner: String = chars[i + 1..end].iter().map(|(_, c)| *c).collect();
                push_string(&mut out, &inner);
                fixes.insert(if c == '\'' {
                    Repair::SingleQuotes
                } else {
                    Repair::TypographicQuotes
                });
                i = end + 1;
            }
            '/' if matches!(chars.get(i + 1), Some((_, '/'))) => {
                i = chars[i..]
                    .iter()
                    .position(|(_, c)| *c == '\n')
                    .map_or(chars.len(), |p| i + p);
                fixes.insert(Repair::Comments);
            }
            '/' if matches!(chars.get(i + 1), Some((_, '*'))) => {
                let close = (i + 2..chars.len().saturating_sub(1))
                    .find(|&j| chars[j].1 == '*' && chars[j + 1].1 == '/')
                    .ok_or(Unreadable::CutOff)?;
                i = close + 2;
                fixes.insert(Repair::Comments);
            }
            '#' => {
                i = chars[i..]
                    .iter()
                    .position(|(_, c)| *c == '\n')
                    .map_or(chars.len(), |p| i + p);
                fixes.insert(Repair::Comments);
            }
            ',' => {
                let next = next_significant(&chars, i + 1);
                if matches!(next.map(|j| chars[j].1), Some('}' | ']')) {
                    fixes.insert(Repair::TrailingCommas);
                } else {
                    out.push(',');
                }
                i += 1;
            }
            '{' | '[' => {
                depth.push(c);
                out.push(c);
                i += 1;
            }
            '}' | ']' => {
                let open = if c == '}' { '{' } else { '[' };
                if depth.pop() != Some(open) {
                    return Err(Unreadable::Invalid(at));
                }
                out.push(c);
                i += 1;
            }
            c if c.is_ascii_digit() || c == '-' => {
                let end = (i..chars.len())
                    .find(|&j| !matches!(chars[j].1, '0'..='9' | '.' | 'e' | 'E' | '+' | '-'))
                    .unwrap_or(chars.len());
                out.push_str(&src[at..chars.get(end).map_or(src.len(), |(a, _)| *a)]);
                i = end;
            }
            c if c.is_alphabetic() || c == '_' || c == '$' => {
                let end = (i..chars.len())
                    .find(|&j| {
                        let c = chars[j].1;
                        !(c.is_alphanumeric() || c == '_' || c == '$' || c == '-' || c == '.')
                    })
                    .unwrap_or(chars.len());
                let word: String = chars[i..end].iter().map(|(_, c)| *c).collect();
                let is_key = next_significant(&chars, end).is_some_and(|j| chars[j].1 == ':');
                match word.as_str() {
                    "true" | "false" | "null" if !is_key => out.push_str(&word),
                    _ if is_key => {
                        push_string(&mut out, &word);
                        fixes.insert(Repair::UnquotedKeys);
                    }
                    _ => return Err(Unreadable::Invalid(at)),
                }
                i = end;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    if !depth.is_empty() {
        return Err(Unreadable::CutOff);
    }
    match serde_json::from_str::<serde_json::Value>(&out) {
        Ok(_) => Ok((out, fixes)),
        Err(e) if e.is_eof() => Err(Unreadable::CutOff),
        Err(e) => Err(Unreadable::Invalid(e.column())),
    }
}

/// The index of the quote that closes the string opened at `open`.
fn string_end(chars: &[(usize, char)], open: usize, closer: char) -> Option<usize> {
    let mut escaped = false;
    for (j, &(_, c)) in chars.iter().enumerate().skip(open + 1) {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, c) if c == closer => return Some(j),
            // A typographic string may be closed by either curly quote.
            (false, '\u{201C}') if closer == '\u{201D}' => return Some(j),
            _ => {}
        }
    }
    None
}

/// The next character that is not white space or a comment.
fn next_significant(chars: &[(usize, char)], from: usize) -> Option<usize> {
    let mut j = from;
    while j < chars.len() {
        match chars[j].1 {
            c if c.is_whitespace() => j += 1,
            '/' if matches!(chars.get(j + 1), Some((_, '/'))) => {
                j = chars[j..]
                    .iter()
                    .position(|(_, c)| *c == '\n')
                    .map_or(chars.len(), |p| j + p);
            }
            '/' if matches!(chars.get(j + 1), Some((_, '*'))) => {
                j = (j + 2..chars.len().saturating_sub(1))
                    .find(|&k| chars[k].1 == '*' && chars[k + 1].1 == '/')
                    .map_or(chars.len(), |k| k + 2);
            }
            _ => return Some(j),
        }
    }
    None
}

/// `s` (the inside of a lenient string, its escapes as written) as a JSON string.
fn push_string(out: &mut String, s: &str) {
    let mut unescaped = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => unescaped.push('\n'),
                Some('t') => unescaped.push('\t'),
                Some('r') => unescaped.push('\r'),
                Some(other) => unescaped.push(other),
                None => {}
            }
        } else {
            unescaped.push(c);
        }
    }
    out.push_str(&serde_json::Value::String(unescaped).to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(src: &str) -> (serde_json::Value, Vec<Repair>) {
        let (s, f) = strict(src).unwrap();
        (serde_json::from_str(&s).unwrap(), f.into_iter().collect())
    }

    #[test]
    fn strict_json_passes_unchanged() {
        let src = r#"{"a": [1, 2.5, -3e2, "x\"y", true, null], "b": {"c": "//not a comment"}}"#;
        let (s, f) = strict(src).unwrap();
        assert_eq!(s, src);
        assert!(f.is_empty());
    }

    #[test]
    fn each_kind_of_fix_is_named() {
        assert_eq!(fixed("{\"a\": 1,}").1, vec![Repair::TrailingCommas]);
        assert_eq!(
            fixed("{\"a\": [1, 2, ],\n}").1,
            vec![Repair::TrailingCommas]
        );
        assert_eq!(
            fixed("{\n// why\n\"a\": 1 /* inline */}").1,
            vec![Repair::Comments]
        );
        assert_eq!(fixed("{'a': 'it\\'s'}").0, serde_json::json!({"a": "it's"}));
        assert_eq!(fixed("{'a': 1}").1, vec![Repair::SingleQuotes]);
        assert_eq!(
            fixed("{\u{201C}a\u{201D}: \u{201C}b\u{201D}}").0,
            serde_json::json!({"a": "b"})
        );
        assert_eq!(fixed("{a: 1, b_c: {d: 2}}").1, vec![Repair::UnquotedKeys]);
        assert_eq!(
            fixed("{'a': \"q\\\"\", }").0,
            serde_json::json!({"a": "q\""})
        );
    }

    #[test]
    fn what_was_cut_off_is_not_completed() {
        assert_eq!(strict("{\"a\": [1, 2"), Err(Unreadable::CutOff));
        assert_eq!(strict("{\"a\": \"unfinished"), Err(Unreadable::CutOff));
        assert_eq!(strict("{\"a\": 1 /* never closed"), Err(Unreadable::CutOff));
    }

    #[test]
    fn prose_is_not_json() {
        assert!(matches!(
            strict("{this is prose}"),
            Err(Unreadable::Invalid(_))
        ));
        assert!(matches!(strict("{\"a\": 1]"), Err(Unreadable::Invalid(_))));
    }
}

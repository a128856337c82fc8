//! Markdown that people write (review comments) rendered for a page without letting
//! it carry markup: raw HTML is shown as text, and links and images keep only safe
//! schemes.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag};

/// Whether a link target may be followed from a page: web and mail links, and
/// relative ones; never `javascript:`, `data:` or other schemes.
fn safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    match lower.find(':') {
        // A colon before any '/', '?' or '#' starts a scheme.
        Some(i) if !lower[..i].contains(['/', '?', '#']) => {
            matches!(&lower[..i], "http" | "https" | "mailto")
        }
        _ => true,
    }
}

/// HTML for `md`: raw HTML becomes text, unsafe link targets become `#`.
pub fn render(md: &str) -> String {
    let events =
        Parser::new_ext(md, Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES).map(|ev| {
            match ev {
                Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
                Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }) if !safe_url(&dest_url) => Event::Start(Tag::Link {
                    link_type,
                    dest_url: CowStr::Borrowed("#"),
                    title,
                    id,
                }),
                Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                }) if !safe_url(&dest_url) => Event::Start(Tag::Image {
                    link_type,
                    dest_url: CowStr::Borrowed("#"),
                    title,
                    id,
                }),
                other => other,
            }
        });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn markup_and_scripts_do_not_survive() {
        let h = render(
            "**bold** <script>alert(1)</script> [x](javascript:alert(1)) [y](https://a.example/)",
        );
        assert!(h.contains("<strong>bold</strong>"), "{h}");
        assert!(!h.contains("<script"), "{h}");
        assert!(h.contains("&lt;script&gt;"), "{h}");
        assert!(!h.contains("javascript:"), "{h}");
        assert!(h.contains("href=\"https://a.example/\""), "{h}");
        let h = render(
            "<img src=x onerror=alert(1)>\n\n![i](data:text/html,x) [r](/admin) [c](JavaScript:x)",
        );
        assert!(!h.contains("<img src=x"), "{h}");
        assert!(!h.contains("data:"), "{h}");
        assert!(h.contains("href=\"/admin\""), "{h}");
        assert!(!h.to_lowercase().contains("javascript:"), "{h}");
    }

    /// The tags Markdown itself produces.
    const TAGS: &[&str] = &[
        "p",
        "strong",
        "em",
        "del",
        "a",
        "code",
        "pre",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "blockquote",
        "hr",
        "br",
        "img",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    ];

    proptest! {
        /// Whatever is written, the page gets only Markdown's own elements, and every
        /// link or image target is safe to follow.
        #[test]
        fn only_markdown_elements_and_safe_targets(s in "[<>a-zA-Z:=\"' /()\\[\\]!*#\n-]{0,80}") {
            let h = render(&s);
            for (i, _) in h.match_indices('<') {
                let name: String = h[i + 1..].chars().skip_while(|c| *c == '/')
                    .take_while(|c| c.is_ascii_alphanumeric()).collect();
                prop_assert!(TAGS.contains(&name.as_str()), "<{} in {}", name, h);
            }
            for attr in ["href=\"", "src=\""] {
                for (i, _) in h.match_indices(attr) {
                    let v: String = h[i + attr.len()..].chars().take_while(|c| *c != '"').collect();
                    prop_assert!(safe_url(&v), "{} in {}", v, h);
                }
            }
        }
    }
}

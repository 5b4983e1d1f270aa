//! `REPORT.md` has sections written by different binaries: `bench` writes W1–W6, `downstream`
//! the hannoy comparison. Each replaces its own `## ` section and keeps the others.

/// The `## {title}` section of `text` (heading included, up to the next `## ` heading).
pub fn section<'a>(text: &'a str, title: &str) -> Option<&'a str> {
    let heading = format!("## {title}");
    let start = text.lines().scan(0, |at, line| {
        let here = *at;
        *at += line.len() + 1;
        Some((here, line))
    });
    let mut start = start.filter(|(_, line)| line.starts_with(&heading)).map(|(at, _)| at);
    let begin = start.next()?;
    let rest = &text[begin + heading.len()..];
    let end = rest.find("\n## ").map_or(text.len(), |i| begin + heading.len() + i + 1);
    Some(&text[begin..end])
}

/// `text` with its `## {title}` section replaced by `new` (appended if it has none).
pub fn replace_section(text: &str, title: &str, new: &str) -> String {
    let new = format!("{}\n", new.trim_end());
    match section(text, title) {
        Some(old) => {
            let begin = old.as_ptr() as usize - text.as_ptr() as usize;
            let gap = if begin + old.len() < text.len() { "\n" } else { "" };
            format!("{}{new}{gap}{}", &text[..begin], &text[begin + old.len()..])
        }
        None => format!("{}\n\n{new}", text.trim_end()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "# r\n\n## W5 micro\n\nw5\n\n## Downstream: x\n\nold\n";

    #[test]
    fn finds_a_section_up_to_the_next_heading_or_the_end() {
        assert_eq!(section(REPORT, "W5"), Some("## W5 micro\n\nw5\n\n"));
        assert_eq!(section(REPORT, "Downstream"), Some("## Downstream: x\n\nold\n"));
        assert_eq!(section(REPORT, "W6"), None);
    }

    #[test]
    fn replaces_or_appends_a_section_and_keeps_the_others() {
        let replaced = replace_section(REPORT, "Downstream", "## Downstream: y\n\nnew\n");
        assert_eq!(replaced, "# r\n\n## W5 micro\n\nw5\n\n## Downstream: y\n\nnew\n");
        let replaced = replace_section(REPORT, "W5", "## W5 micro\n\nw5 again");
        assert_eq!(replaced, "# r\n\n## W5 micro\n\nw5 again\n\n## Downstream: x\n\nold\n");
        let appended = replace_section("# r\n", "Downstream", "## Downstream\n\nfirst");
        assert_eq!(appended, "# r\n\n## Downstream\n\nfirst\n");
    }
}

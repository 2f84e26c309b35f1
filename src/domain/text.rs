//! Text that reaches headers, e-mails, CSV files and log lines: control characters
//! (C0 — NUL, TAB, CR, LF … —, DEL and C1) are refused in one-line fields and URLs;
//! multi-line fields keep line breaks and tabs and refuse the rest.

/// The problem with a one-line field, if it holds a control character.
pub fn one_line_problem(value: &str) -> Option<String> {
    value.chars().find(|c| c.is_control()).map(|c| {
        format!(
            "Remove the control character {} (line breaks, tabs and other invisible characters are not allowed here).",
            describe(c)
        )
    })
}

/// The problem with a multi-line field (line breaks and tabs allowed), if any.
pub fn multi_line_problem(value: &str) -> Option<String> {
    value
        .chars()
        .find(|&c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        .map(|c| format!("Remove the control character {}.", describe(c)))
}

fn describe(c: char) -> String {
    match c {
        '\r' => "CR (carriage return)".into(),
        '\n' => "LF (line feed)".into(),
        '\t' => "TAB".into(),
        '\0' => "NUL".into(),
        c => format!("U+{:04X}", c as u32),
    }
}

/// Add `field`'s one-line problem to `errors` (unless it already has one).
pub fn check_one_line(errors: &mut std::collections::BTreeMap<String, String>, field: &str, value: &str) {
    if let Some(p) = one_line_problem(value) {
        errors.entry(field.to_string()).or_insert(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_named() {
        for (value, named) in [
            ("a\rb", "CR"),
            ("a\nb", "LF"),
            ("a\0", "NUL"),
            ("\ta", "TAB"),
            ("a\u{7f}", "U+007F"),
            ("a\u{85}b", "U+0085"),
            ("\u{1b}[31m", "U+001B"),
        ] {
            let p = one_line_problem(value).unwrap_or_else(|| panic!("{value:?} must be refused"));
            assert!(p.contains(named), "{p}");
        }
        for ok in ["Solar quotes", "Küche & Bad — 50 %", "https://a.example/?q={sub1}", ""] {
            assert_eq!(one_line_problem(ok), None, "{ok:?}");
        }
    }

    #[test]
    fn multi_line_keeps_line_breaks() {
        assert_eq!(multi_line_problem("one\r\ntwo\tthree"), None);
        assert!(multi_line_problem("one\0two").is_some());
        assert!(multi_line_problem("bell\u{7}").is_some());
    }
}

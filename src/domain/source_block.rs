//! Traffic-source blocks (DESIGN §5): an advertiser blocks values of `sub1`–`sub5`
//! or `source` on its offer (for every publisher or for one), an admin across the
//! network. A click whose value matches a block goes to the offer's fallback with
//! the redirect reason `source_blocked`; a conversion from it is refused
//! (`source_blocked`). Pure: `store::source_blocks` keeps them, the click path holds
//! those of a link in its cache entry ([`Blocks`]).
//!
//! Values compare trimmed and without regard to case (`Facebook ` is `facebook`),
//! as the click stores them (control characters dropped, at most 255 characters).

use crate::domain::tracking::clean;

/// The click's redirect reason and the intake's refusal.
pub const REASON: &str = "source_blocked";

/// The click values a block can name, in the order of the tracking link.
pub const FIELDS: [&str; 6] = ["sub1", "sub2", "sub3", "sub4", "sub5", "source"];

/// How a block's value is compared with the click's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The whole value.
    Exact,
    /// The value begins with it.
    Prefix,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Exact => "exact",
            Mode::Prefix => "prefix",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        match s.trim() {
            "exact" => Some(Mode::Exact),
            "prefix" => Some(Mode::Prefix),
            _ => None,
        }
    }
}

/// A block as someone asks for it, validated: which value, how compared, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockSpec {
    /// One of [`FIELDS`].
    pub field: &'static str,
    pub mode: Mode,
    /// Cleaned as a click's value is, never empty.
    pub value: String,
}

/// Validate a block from a form: the field, the mode and a non-empty value; the
/// error names what is wrong, in plain words.
pub fn parse(field: &str, mode: &str, value: &str) -> Result<BlockSpec, String> {
    let field = FIELDS
        .iter()
        .find(|f| **f == field.trim())
        .ok_or_else(|| format!("{field:?} is not a tracking value; use one of {}.", FIELDS.join(", ")))?;
    let mode = Mode::parse(mode).ok_or_else(|| format!("{mode:?} is no way to compare; use exact or prefix."))?;
    let value = clean(value.trim(), 255);
    if value.is_empty() {
        return Err("Give the value to block: an empty value would block every click without it.".into());
    }
    Ok(BlockSpec { field, mode, value })
}

/// One block as the click path compares it: the value lower-cased once.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    /// Index into [`FIELDS`].
    field: usize,
    mode: Mode,
    lower: String,
}

/// The blocks that apply to one link (its offer's, its own publisher's on the
/// offer, and the network's), ready to compare with a click's values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Blocks(Vec<Rule>);

impl Blocks {
    pub fn new<'a>(blocks: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>) -> Blocks {
        Blocks(
            blocks
                .into_iter()
                .filter_map(|(field, mode, value)| {
                    let field = FIELDS.iter().position(|f| *f == field)?;
                    let mode = Mode::parse(mode)?;
                    let lower = value.to_lowercase();
                    (!lower.is_empty()).then_some(Rule { field, mode, lower })
                })
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a click with these values (`sub1`–`sub5`, then `source`, cleaned as
    /// stored) is blocked. Costs nothing when no block applies.
    pub fn blocks(&self, values: [&str; 6]) -> bool {
        if self.0.is_empty() {
            return false;
        }
        let mut lowered: [Option<String>; 6] = Default::default();
        self.0.iter().any(|r| {
            let v = lowered[r.field].get_or_insert_with(|| values[r.field].trim().to_lowercase());
            match r.mode {
                Mode::Exact => *v == r.lower,
                Mode::Prefix => v.starts_with(&r.lower),
            }
        })
    }
}

/// A block in plain words, for the advertiser, the admin and the publishers it
/// applies to: "Clicks whose sub1 is “spam-site” …", "… whose source begins with “adult”".
pub fn describe(field: &str, mode: &str, value: &str) -> String {
    let how = match Mode::parse(mode) {
        Some(Mode::Prefix) => "begins with",
        _ => "is",
    };
    format!("Clicks whose {field} {how} “{value}”")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<'a>(sub1: &'a str, source: &'a str) -> [&'a str; 6] {
        [sub1, "", "", "", "", source]
    }

    #[test]
    fn exact_and_prefix_blocks_match_without_regard_to_case() {
        let b = Blocks::new([("sub1", "exact", "Site-42"), ("source", "prefix", "ADULT")]);
        assert!(b.blocks(values("site-42", "")));
        assert!(b.blocks(values("SITE-42", "")));
        assert!(!b.blocks(values("site-421", "")), "exact means the whole value");
        assert!(b.blocks(values("", "adult-network-7")));
        assert!(b.blocks(values("", "Adult")));
        assert!(!b.blocks(values("", "not-adult")), "a prefix is where the value begins");
        assert!(!b.blocks(values("", "")));
        assert!(b.blocks(values(" site-42 ", "")), "compared trimmed");
        let cyrillic = Blocks::new([("sub2", "exact", "Дорвей")]);
        assert!(cyrillic.blocks(["", "дорвей", "", "", "", ""]), "case folds beyond ASCII");
        assert!(!cyrillic.blocks(["дорвей", "", "", "", "", ""]), "another field");
        assert!(Blocks::default().is_empty() && !Blocks::default().blocks(values("x", "y")));
    }

    #[test]
    fn blocks_are_validated_with_a_reason() {
        assert_eq!(
            parse("source", "prefix", "  adult\u{7}  "),
            Ok(BlockSpec { field: "source", mode: Mode::Prefix, value: "adult".into() })
        );
        assert!(parse("sub6", "exact", "x").expect_err("no sub6").contains("sub1, sub2"));
        assert!(parse("sub1", "regex", "x").expect_err("no regex").contains("exact or prefix"));
        assert!(parse("sub1", "exact", "  ").expect_err("empty").contains("every click"));
        assert_eq!(parse("sub1", "exact", &"x".repeat(300)).map(|b| b.value.len()), Ok(255));
    }

    #[test]
    fn blocks_read_in_plain_words() {
        assert_eq!(describe("sub1", "exact", "spam"), "Clicks whose sub1 is “spam”");
        assert_eq!(describe("source", "prefix", "adult"), "Clicks whose source begins with “adult”");
    }
}

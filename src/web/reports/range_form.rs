//! The date-range form of the dashboards and report pages
//! (`partials/report_range.html`), with its selects and quick links.

use chrono::{Duration, NaiveDate};

use super::Reader;
use crate::domain::report::Range;

/// A quick range link ("7 days").
pub struct QuickLink {
    pub label: &'static str,
    pub href: String,
    pub active: bool,
}

/// A select box of a report form: (value, text, selected) options.
pub struct Select {
    pub name: &'static str,
    pub label: &'static str,
    pub options: Vec<(String, String, bool)>,
}

/// The model of `partials/report_range.html`: a GET form with the range, any
/// selects, the fields to keep, and quick links.
pub struct RangeForm {
    pub action: &'static str,
    pub from: String,
    pub to: String,
    pub label: String,
    pub tz: String,
    pub selects: Vec<Select>,
    pub hidden: Vec<(&'static str, String)>,
    today: NaiveDate,
    range: (NaiveDate, NaiveDate),
}

impl RangeForm {
    pub fn new(action: &'static str, reader: &Reader, range: &Range) -> RangeForm {
        RangeForm {
            action,
            from: range.from.to_string(),
            to: range.to.to_string(),
            label: range.label(),
            tz: reader.tz.name().to_string(),
            selects: vec![],
            hidden: vec![],
            today: reader.today(),
            range: (range.from, range.to),
        }
    }

    /// Keep a query field through the form and the quick links.
    pub fn keep(mut self, name: &'static str, value: String) -> RangeForm {
        if !value.is_empty() {
            self.hidden.push((name, value));
        }
        self
    }

    pub fn select(mut self, s: Select) -> RangeForm {
        self.selects.push(s);
        self
    }

    /// The last 7, 30 and 90 days up to today, each keeping the other fields.
    pub fn quick(&self) -> Vec<QuickLink> {
        let mut keep = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.hidden {
            keep.append_pair(name, value);
        }
        for s in &self.selects {
            if let Some((v, _, _)) = s.options.iter().find(|o| o.2).filter(|o| !o.0.is_empty()) {
                keep.append_pair(s.name, v);
            }
        }
        let keep = keep.finish();
        [("7 days", 7), ("30 days", 30), ("90 days", 90)]
            .into_iter()
            .map(|(label, n)| {
                let from = self.today - Duration::days(n - 1);
                let mut href = format!("{}?from={from}&to={}", self.action, self.today);
                if !keep.is_empty() {
                    href.push('&');
                    href.push_str(&keep);
                }
                QuickLink { label, href, active: self.range == (from, self.today) }
            })
            .collect()
    }
}

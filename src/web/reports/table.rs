//! The report tables (`partials/report_table.html`): the viewer's columns, rows,
//! a totals row and the CSV link, and the dashboards' tables.

use super::{Reader, Select};
use crate::domain::report::{Column, GroupBy, Metrics, Range, Viewer, columns};
use crate::store::reports::{self as rollup_reports, Line};
use crate::store::rollups::Delta;

/// A column heading.
pub struct Head {
    pub name: &'static str,
    pub title: &'static str,
    pub numeric: bool,
}

pub struct Row {
    pub label: String,
    pub href: Option<String>,
    pub cells: Vec<Cell>,
}

/// A table cell: its text, and what a reader sees pointing at it (a breakdown).
pub struct Cell {
    pub text: String,
    pub note: Option<String>,
    /// `text` is an amount (`"12.50"`): the page shows it with its currency.
    pub money: bool,
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell { text, note: None, money: false }
    }
}

/// A select in a table's header that reloads the page with another value (the
/// publisher's sub1–sub5), keeping the `hidden` fields.
pub struct Switch {
    pub action: &'static str,
    pub select: Select,
    pub hidden: Vec<(&'static str, String)>,
}

/// The model of `partials/report_table.html`.
pub struct Table {
    /// The section's id and CSS hook, e.g. `by-offer`.
    pub id: &'static str,
    pub title: String,
    /// The heading of the first column (the group).
    pub group: &'static str,
    pub heads: Vec<Head>,
    pub rows: Vec<Row>,
    pub total: Option<Vec<Cell>>,
    /// The CSV export of the same table.
    pub csv: Option<String>,
    pub switch: Option<Switch>,
    pub empty: &'static str,
}

impl Table {
    /// A table of `lines` with the viewer's columns, only those named in `pick`
    /// when given (in the viewer's column order, so a pick can never add a column
    /// the viewer may not see).
    pub fn new(
        id: &'static str,
        title: impl Into<String>,
        viewer: Viewer,
        pick: Option<&[&str]>,
        group: GroupBy,
    ) -> Table {
        let heads = picked(viewer, pick)
            .into_iter()
            .map(|c| Head { name: c.name, title: c.title, numeric: c.numeric })
            .collect();
        Table {
            id,
            title: title.into(),
            group: group.title(),
            heads,
            rows: vec![],
            total: None,
            csv: None,
            switch: None,
            empty: "No traffic in this range.",
        }
    }

    /// Fill the rows (and a totals row when `total`).
    pub fn rows(mut self, viewer: Viewer, pick: Option<&[&str]>, lines: &[Line], total: bool) -> Table {
        let cols = picked(viewer, pick);
        let cells = |d: &Delta| {
            let m = Metrics::of(d);
            cols.iter()
                .map(|c| Cell { text: (c.get)(&m), note: c.note.and_then(|note| note(&m)), money: c.money })
                .collect::<Vec<_>>()
        };
        self.rows = lines.iter().map(|l| Row { label: l.label.clone(), href: None, cells: cells(&l.totals) }).collect();
        if total && !lines.is_empty() {
            self.total = Some(cells(&rollup_reports::totals(lines)));
        }
        self
    }

    pub fn csv(mut self, href: String) -> Table {
        self.csv = Some(href);
        self
    }

    pub fn switch(mut self, switch: Switch) -> Table {
        self.switch = Some(switch);
        self
    }

    pub fn empty(mut self, message: &'static str) -> Table {
        self.empty = message;
        self
    }

    /// Columns in all, with the group's.
    pub fn width(&self) -> usize {
        self.heads.len() + 1
    }
}

/// The viewer's page columns (no breakdown meant for CSV only), those of `pick`.
fn picked(viewer: Viewer, pick: Option<&[&str]>) -> Vec<Column> {
    columns(viewer).into_iter().filter(|c| !c.export_only && pick.is_none_or(|p| p.contains(&c.name))).collect()
}

/// A dashboard table: its lines (the first `limit`), the viewer's `pick` of
/// columns, a totals row, and the CSV of the whole report.
#[allow(clippy::too_many_arguments)]
pub fn dashboard_table(
    reader: &Reader,
    range: &Range,
    id: &'static str,
    title: impl Into<String>,
    group: GroupBy,
    pick: &[&str],
    lines: &[Line],
    limit: Option<usize>,
) -> Table {
    let shown = &lines[..limit.map_or(lines.len(), |n| n.min(lines.len()))];
    Table::new(id, title, reader.viewer, Some(pick), group)
        .rows(reader.viewer, Some(pick), shown, limit.is_none())
        .csv(reader.report_url(range, group, None, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_never_add_a_column_the_viewer_may_not_see() {
        let t = Table::new("t", "T", Viewer::Publisher, Some(&["clicks", "revenue", "fee", "payout"]), GroupBy::Offer);
        assert_eq!(t.heads.iter().map(|h| h.name).collect::<Vec<_>>(), ["clicks", "payout"]);
    }

    #[test]
    fn a_page_shows_why_clicks_went_to_the_fallback_in_the_cell_not_in_more_columns() {
        let lines = [Line {
            key: "7".into(),
            label: "Solar".into(),
            totals: Delta { clicks: 5, fallback_clicks: 3, off_target_clicks: 3, ..Delta::default() },
        }];
        let t =
            Table::new("t", "T", Viewer::Publisher, None, GroupBy::Offer).rows(Viewer::Publisher, None, &lines, true);
        let names: Vec<_> = t.heads.iter().map(|h| h.name).collect();
        assert!(names.contains(&"fallback_clicks"), "{names:?}");
        assert!(!names.contains(&"off_target_clicks") && !names.contains(&"blocked_clicks"), "{names:?}");
        let at = names.iter().position(|n| *n == "fallback_clicks").expect("column");
        let cell = &t.rows[0].cells[at];
        assert_eq!(cell.text, "3");
        assert!(cell.note.as_deref().is_some_and(|n| n.contains("3 outside the offer's targeting")), "{:?}", cell.note);
        let total = &t.total.as_ref().expect("total")[at];
        assert_eq!((total.text.as_str(), total.note.is_some()), ("3", true));
        assert!(t.rows[0].cells[0].note.is_none(), "clicks have no note");
    }
}

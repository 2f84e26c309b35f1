//! Reading the report pages and CSV files of the dashboards: a page that must
//! answer 200, a table row's cells by column name, a CSV file's rows.

use std::collections::HashMap;

use reqwest::StatusCode;

use super::TestApp;

/// `GET path` as `client`; the page, which must answer 200.
pub async fn page(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    let (status, html) = app.get_text(client, path).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {html}");
    html
}

/// The first group of `pattern` in `html`; the test fails naming `what` when it
/// does not match.
pub fn captured(html: &str, pattern: &str, what: &str) -> String {
    regex::Regex::new(pattern).expect("re").captures(html).unwrap_or_else(|| panic!("no {what} in\n{html}"))[1]
        .to_string()
}

/// The report table with id `table`: its section's HTML and its column names
/// (`data-col`), in order.
fn table_of(html: &str, table: &str) -> (String, Vec<String>) {
    let section = captured(
        html,
        &format!(r#"(?s)<section class="card report-table" id="{table}">(.*?)</section>"#),
        &format!("table {table}"),
    );
    let cols: Vec<String> = regex::Regex::new(r#"data-col="(\w+)""#)
        .expect("re")
        .captures_iter(&section)
        .map(|c| c[1].to_string())
        .collect();
    (section, cols)
}

/// The cells of the row labelled `label` (`Total`: the footer row) in the report
/// table with id `table`, by column name (`data-col`).
pub fn row(html: &str, table: &str, label: &str) -> HashMap<String, String> {
    let (section, cols) = table_of(html, table);
    let pattern = if label == "Total" {
        r"(?s)<tfoot><tr><th>Total</th>(.*?)</tr>".to_string()
    } else {
        format!(r#"(?s)<tr><td class="group">(?:<a [^>]*>)?{}(?:</a>)?</td>(.*?)</tr>"#, regex::escape(label))
    };
    let tr = captured(&section, &pattern, &format!("row {label:?} in table {table}"));
    let cells: Vec<String> = regex::Regex::new(r#"<td class="num[^"]*"[^>]*>([^<]*)</td>"#)
        .expect("re")
        .captures_iter(&tr)
        .map(|c| c[1].to_string())
        .collect();
    assert_eq!(cols.len(), cells.len(), "{tr}");
    cols.into_iter().zip(cells).collect()
}

/// What a reader sees pointing at the cell of column `col` in the row labelled
/// `label` of the report table `table` (its `title`), if anything.
pub fn note(html: &str, table: &str, label: &str, col: &str) -> Option<String> {
    let (section, cols) = table_of(html, table);
    let at = cols.iter().position(|c| c == col).unwrap_or_else(|| panic!("no column {col} in table {table}"));
    let tr = captured(
        &section,
        &format!(r#"(?s)<tr><td class="group">(?:<a [^>]*>)?{}(?:</a>)?</td>(.*?)</tr>"#, regex::escape(label)),
        &format!("row {label:?} in table {table}"),
    );
    let cell =
        regex::Regex::new(r#"<td class="num[^"]*"([^>]*)>"#).expect("re").captures_iter(&tr).nth(at)?[1].to_string();
    regex::Regex::new(r#"title="([^"]*)""#).expect("re").captures(&cell).map(|c| c[1].to_string())
}

/// A CSV body's header and its rows as maps by column name.
pub fn parse_csv(body: &str) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let mut lines = body.split("\r\n").filter(|l| !l.is_empty());
    let header: Vec<String> = lines.next().expect("header").split(',').map(str::to_string).collect();
    let rows = lines.map(|l| header.iter().cloned().zip(l.split(',').map(str::to_string)).collect()).collect();
    (header, rows)
}

//! A small CSV reader and writer (RFC 4180: commas, double-quoted fields with `""`
//! for a quote, CRLF or LF line ends), for verdict uploads and their result files.

/// The records of `text` (read by the `csv` crate: RFC 4180, CRLF or LF, a leading
/// byte-order mark dropped); blank lines are skipped, records may differ in length.
/// `Err` says what is wrong and on which line.
pub fn parse(text: &str) -> Result<Vec<Vec<String>>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut records = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| match e.position() {
            Some(p) => format!("{} (line {})", describe(&e), p.line()),
            None => describe(&e),
        })?;
        if record.len() == 1 && record[0].trim().is_empty() {
            continue;
        }
        records.push(record.iter().map(String::from).collect());
    }
    // The reader ends a quoted field at the end of the text without an error.
    if text.matches('"').count() % 2 == 1 {
        return Err(format!("a quoted field is not closed (line {})", text.lines().count()));
    }
    Ok(records)
}

fn describe(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "the file is not UTF-8 text".into(),
        _ => "the file is not CSV".into(),
    }
}

/// One CSV line (with CRLF) of `fields`, quoted where needed. A field starting
/// with `=`, `+`, `-` or `@` gets a leading `'` so a spreadsheet does not run it,
/// unless it is a plain number (`-12.50`), which a spreadsheet reads as one.
pub fn line<S: AsRef<str>>(fields: &[S]) -> String {
    let mut out = fields.iter().map(|f| field(f.as_ref())).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    out
}

/// One field of a CSV line: guarded and quoted as [`line`] says.
fn field(f: &str) -> String {
    let number = f.strip_prefix('-').is_some_and(|n| {
        let (int, frac) = n.split_once('.').unwrap_or((n, "0"));
        !int.is_empty() && !frac.is_empty() && int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    });
    let f = if f.starts_with(['=', '+', '-', '@']) && !number { format!("'{f}") } else { f.to_string() };
    if f.contains([',', '"', '\n', '\r']) { format!("\"{}\"", f.replace('"', "\"\"")) } else { f }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_quotes_and_line_ends() {
        let r = parse("txid,status,comment\r\nA1,approved,\"said \"\"yes\"\", twice\"\n\nA2,rejected,\n").expect("csv");
        assert_eq!(r.len(), 3);
        assert_eq!(r[1], vec!["A1", "approved", "said \"yes\", twice"]);
        assert_eq!(r[2], vec!["A2", "rejected", ""]);
        assert!(parse("a,\"b\n").is_err());
        assert_eq!(parse("\u{feff}a,b").expect("bom"), vec![vec!["a", "b"]]);
    }

    #[test]
    fn writes_what_it_reads() {
        let l = line(&["1", "a,b", "say \"hi\"", "=SUM(A1)"]);
        assert_eq!(l, "1,\"a,b\",\"say \"\"hi\"\"\",'=SUM(A1)\r\n");
        assert_eq!(parse(&l).expect("csv")[0][2], "say \"hi\"");
        // A negative amount stays a number; anything else starting with `-` is guarded.
        assert_eq!(line(&["-12.50", "-7", "-1+2", "-", "-.5"]), "-12.50,-7,'-1+2,'-,'-.5\r\n");
    }
}

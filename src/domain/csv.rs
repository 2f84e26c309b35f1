//! A small CSV reader and writer (RFC 4180: commas, double-quoted fields with `""`
//! for a quote, CRLF or LF line ends), for verdict uploads and their result files.

/// The records of `text`; blank lines are skipped. `Err` names the line of an
/// unterminated quoted field.
pub fn parse(text: &str) -> Result<Vec<Vec<String>>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let (mut quoted, mut was_quoted) = (false, false);
    let mut line = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !was_quoted => (quoted, was_quoted) = (true, true),
            ',' => {
                record.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                line += 1;
                record.push(std::mem::take(&mut field));
                was_quoted = false;
                if !(record.len() == 1 && record[0].trim().is_empty()) {
                    records.push(std::mem::take(&mut record));
                } else {
                    record.clear();
                }
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(format!("a quoted field is not closed (line {line})"));
    }
    if !field.is_empty() || !record.is_empty() || was_quoted {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

/// One CSV line (with CRLF) of `fields`, quoted where needed. A field starting
/// with `=`, `+`, `-` or `@` gets a leading `'` so a spreadsheet does not run it.
pub fn line<S: AsRef<str>>(fields: &[S]) -> String {
    let mut out = fields
        .iter()
        .map(|f| {
            let f = f.as_ref();
            let f = if f.starts_with(['=', '+', '-', '@']) { format!("'{f}") } else { f.to_string() };
            if f.contains([',', '"', '\n', '\r']) { format!("\"{}\"", f.replace('"', "\"\"")) } else { f }
        })
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    out
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
    }
}

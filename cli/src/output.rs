//! How answers are shown: aligned text for people, or one JSON document for scripts. A command
//! describes a resource once, as a `Record`, and both formats are printed from it, so they never
//! disagree about which fields there are.
use std::io::{self, Write};

use chrono::{DateTime, SecondsFormat};
use clap::ValueEnum;
use prost_types::Timestamp;
use serde_json::{Map, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

impl Format {
    /// One resource.
    pub fn print_record(self, record: &Record) -> anyhow::Result<()> {
        match self {
            Format::Json => print_json(&record.json()),
            Format::Text => Ok(record.write_text(&mut io::stdout().lock())?),
        }
    }

    /// A whole list: a table with `columns` in text, `{"<name>": [...]}` in JSON.
    pub fn print_list(
        self,
        name: &str,
        records: &[Record],
        columns: &[&str],
    ) -> anyhow::Result<()> {
        match self {
            Format::Json => print_json(&list_json(name, records)),
            Format::Text => Ok(write_table(
                &mut io::stdout().lock(),
                name,
                records,
                columns,
            )?),
        }
    }
}

/// A resource: its id, then its other fields in display order. Field names are the API's.
pub struct Record {
    noun: &'static str,
    id: Option<String>,
    fields: Vec<(&'static str, Value)>,
}

impl Record {
    pub fn new(noun: &'static str, id: &str) -> Self {
        Self {
            noun,
            id: Some(id.to_string()),
            fields: Vec::new(),
        }
    }

    /// Something without an id of its own, e.g. a row of a bulk list: its JSON has no `id`.
    pub fn without_id(noun: &'static str) -> Self {
        Self {
            noun,
            id: None,
            fields: Vec::new(),
        }
    }

    pub fn field(mut self, name: &'static str, value: impl Into<Value>) -> Self {
        self.fields.push((name, value.into()));
        self
    }

    pub fn json(&self) -> Value {
        let mut object = Map::new();
        if let Some(id) = &self.id {
            object.insert("id".into(), id.clone().into());
        }
        for (name, value) in &self.fields {
            object.insert((*name).into(), value.clone());
        }
        Value::Object(object)
    }

    /// The headline, then the fields, indented under it.
    pub fn write_text(&self, out: &mut impl Write) -> io::Result<()> {
        self.write_headline(out)?;
        self.write_fields(out)
    }

    /// `<noun> <id>`, first and with a single space, so that scripts can pick the id out.
    pub fn write_headline(&self, out: &mut impl Write) -> io::Result<()> {
        match &self.id {
            Some(id) => writeln!(out, "{} {id}", self.noun),
            None => writeln!(out, "{}", self.noun),
        }
    }

    /// Every field with a value, one aligned line each; unset and empty fields are left out.
    pub fn write_fields(&self, out: &mut impl Write) -> io::Result<()> {
        let lines: Vec<(String, String)> = self
            .fields
            .iter()
            .filter_map(|(name, value)| Some((label(name), text(value)?)))
            .collect();
        write_aligned(out, "  ", &lines)
    }

    fn cell(&self, column: &str) -> String {
        if let (Some(id), "id") = (&self.id, column) {
            return id.clone();
        }
        self.fields
            .iter()
            .find(|(name, _)| *name == column)
            .and_then(|(_, value)| text(value))
            .unwrap_or_else(|| "-".into())
    }
}

pub fn print_json(value: &Value) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    // As an `io::Error`, so that a closed pipe is recognised like any other write's.
    serde_json::to_writer_pretty(&mut out, value).map_err(io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

fn list_json(name: &str, records: &[Record]) -> Value {
    let items = records.iter().map(Record::json).collect();
    let mut object = Map::new();
    object.insert(name.into(), Value::Array(items));
    Value::Object(object)
}

/// `label  value` lines with the values lined up.
pub fn write_aligned(
    out: &mut impl Write,
    indent: &str,
    lines: &[(String, String)],
) -> io::Result<()> {
    let width = lines
        .iter()
        .map(|(label, _)| label.len())
        .max()
        .unwrap_or(0);
    for (label, value) in lines {
        writeln!(out, "{indent}{label:<width$}  {value}")?;
    }
    Ok(())
}

/// A table with a header row; the last column is not padded, so it can hold free text.
pub fn write_table(
    out: &mut impl Write,
    name: &str,
    records: &[Record],
    columns: &[&str],
) -> io::Result<()> {
    if records.is_empty() {
        return writeln!(out, "no {}", label(name));
    }
    let header: Vec<String> = columns.iter().map(|c| label(c).to_uppercase()).collect();
    let last = columns.len().saturating_sub(1);
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|record| {
            columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let max = if i == last { MAX_LAST_CELL } else { MAX_CELL };
                    table_cell(&record.cell(c), max)
                })
                .collect()
        })
        .collect();
    let widths: Vec<usize> = (0..columns.len())
        .map(|i| {
            std::iter::once(&header)
                .chain(&rows)
                .map(|row| row[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 < row.len() {
                line.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            } else {
                line.push_str(cell);
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// Longest cell shown in a table, in characters; the last, free-text column gets more. Longer
/// values (e.g. a broken CSV row quoted in a reason) are cut: JSON and `show` have them whole.
const MAX_CELL: usize = 60;
const MAX_LAST_CELL: usize = 160;

/// One line, at most `max` characters: a line break or tab in a value (a name from a CSV file,
/// say) would break the table's rows apart.
fn table_cell(value: &str, max: usize) -> String {
    let mut cell: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if cell.chars().count() > max {
        cell = cell.chars().take(max.saturating_sub(1)).collect();
        cell.push('\u{2026}');
    }
    cell
}

/// `create_time` → `create time`.
fn label(name: &str) -> String {
    name.replace('_', " ")
}

/// How a JSON value reads in text; `None` for a value that is unset or empty.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(if *b { "yes" } else { "no" }.into()),
        Value::Array(items) if items.is_empty() => None,
        Value::Array(items) => Some(items.iter().filter_map(text).collect::<Vec<_>>().join(", ")),
        other => Some(other.to_string()),
    }
}

/// RFC 3339 in UTC to the second, or null when unset.
pub fn timestamp(ts: Option<&Timestamp>) -> Value {
    ts.and_then(|ts| DateTime::from_timestamp(ts.seconds, u32::try_from(ts.nanos).unwrap_or(0)))
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true).into())
        .unwrap_or(Value::Null)
}

/// `JOB_STATE_OPEN` → `open`. A value this build does not know is shown as its number rather
/// than hidden.
pub fn enum_name(str_name: Option<&str>, prefix: &str, raw: i32) -> String {
    match str_name {
        Some(name) => name
            .strip_prefix(prefix)
            .unwrap_or(name)
            .to_ascii_lowercase(),
        None => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Record {
        Record::new("job", "j1")
            .field("title", "Backend engineer")
            .field("message", "")
            .field("labels", vec!["a".to_string(), "b".to_string()])
            .field("locked", false)
            .field("expire_time", Value::Null)
    }

    fn text(write: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        assert!(write(&mut out).is_ok());
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn record_text_leads_with_the_id_and_leaves_out_empty_fields() {
        assert_eq!(
            text(|out| job().write_text(out)),
            "job j1\n  title   Backend engineer\n  labels  a, b\n  locked  no\n"
        );
    }

    #[test]
    fn record_json_keeps_every_field() {
        let json = job().json();
        assert_eq!(json["id"], "j1");
        assert_eq!(json["message"], "");
        assert_eq!(json["expire_time"], Value::Null);
    }

    #[test]
    fn table_aligns_columns_and_marks_empty_cells() {
        let records = [job(), Record::new("job", "j22").field("title", "")];
        let table = text(|out| write_table(out, "jobs", &records, &["id", "title"]));
        assert_eq!(table, "ID   TITLE\nj1   Backend engineer\nj22  -\n");
        let empty = text(|out| write_table(out, "api_keys", &[], &["id"]));
        assert_eq!(empty, "no api keys\n");
    }

    #[test]
    fn table_cells_stay_on_one_line_and_are_cut_when_long() {
        let long = "x".repeat(100);
        let records = [Record::new("row", "r1")
            .field("email", format!("a\nb{long}"))
            .field("reason", "fine")];
        let table = text(|out| write_table(out, "rows", &records, &["id", "email", "reason"]));
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2, "{table}");
        assert!(lines[1].starts_with("r1  a b"), "{table}");
        assert!(lines[1].contains("x\u{2026}  fine"), "{table}");
        assert_eq!(table_cell(&long, 60).chars().count(), 60);
    }

    #[test]
    fn timestamps_are_rfc3339_to_the_second() {
        let ts = Timestamp {
            seconds: 1_700_000_000,
            nanos: 5,
        };
        assert_eq!(timestamp(Some(&ts)), "2023-11-14T22:13:20Z");
        assert_eq!(timestamp(None), Value::Null);
    }

    #[test]
    fn enum_names_lose_their_prefix() {
        assert_eq!(enum_name(Some("JOB_STATE_OPEN"), "JOB_STATE_", 1), "open");
        assert_eq!(enum_name(None, "JOB_STATE_", 9), "9");
    }
}

//! Reading a list of candidates for a bulk invite: a pasted list (`ada@example.com`, or
//! `Ada Lovelace <ada@example.com>`, one per line or separated by commas or semicolons) or CSV
//! with a header row. Every entry keeps its row number, so problems can be reported by row.

/// One entry of the list, as read. `email` is lower-cased when it parsed; `problem` says why
/// the row cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub row: u32,
    pub email: String,
    pub name: String,
    pub external_id: String,
    pub labels: Vec<String>,
    /// The candidate's own language and time zone (CSV only), checked; `None`: the cohort's.
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub problem: Option<String>,
}

impl Entry {
    fn new(row: u32) -> Self {
        Self {
            row,
            email: String::new(),
            name: String::new(),
            external_id: String::new(),
            labels: Vec::new(),
            locale: None,
            time_zone: None,
            problem: None,
        }
    }
}

const MAX_FIELD: usize = 200;

/// Checks an address the way single invites are checked; returns it lower-cased.
fn checked_email(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("no email address".into());
    }
    // Cohort rows still carry the stored text; the check is `Email`'s own.
    super::email::Email::parse(raw)
        .map(super::email::Email::into_string)
        .map_err(|_| format!("`{raw}` is not an email address"))
}

fn checked_text(value: &str, what: &str) -> Result<String, String> {
    let value = value.trim();
    if value.chars().count() > MAX_FIELD {
        return Err(format!("{what} is longer than {MAX_FIELD} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{what} has a line break or control character"));
    }
    Ok(value.to_string())
}

/// A pasted list: lines, or items separated by commas or semicolons. `Name <email>` items may
/// contain commas inside quotes, so items are split only outside `"…"` and `<…>`.
pub fn parse_pasted(text: &str) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut row = 0;
    for item in split_items(text) {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        row += 1;
        let mut entry = Entry::new(row);
        match item.parse::<lettre::message::Mailbox>() {
            Ok(mailbox) => {
                entry.name = mailbox.name.unwrap_or_default();
                match checked_email(mailbox.email.as_ref()) {
                    Ok(email) => entry.email = email,
                    Err(problem) => entry.problem = Some(problem),
                }
            }
            Err(_) => {
                entry.email = item.to_string();
                entry.problem = Some(format!("`{item}` is not an email address"));
            }
        }
        if entry.problem.is_none() {
            if let Err(problem) = checked_text(&entry.name, "the name") {
                entry.problem = Some(problem);
            }
        }
        entries.push(entry);
    }
    entries
}

fn split_items(text: &str) -> Vec<String> {
    let (mut items, mut current) = (Vec::new(), String::new());
    let (mut in_quotes, mut in_angle) = (false, false);
    for c in text.chars() {
        match c {
            '"' => in_quotes = !in_quotes,
            '<' if !in_quotes => in_angle = true,
            '>' if !in_quotes => in_angle = false,
            '\n' | '\r' | ',' | ';' if !in_quotes && !in_angle => {
                items.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    items.push(current);
    items
}

/// CSV with a header row naming some of: email, first_name, last_name, name, external_id,
/// labels (separated by `;`), locale (a language tag, e.g. `de`), time_zone (IANA, e.g.
/// `Europe/Berlin`). Row numbers count data rows (the header is not one). Errors
/// that make the whole file unusable (no header, no email column) come back as `Err`.
pub fn parse_csv(text: &str) -> Result<Vec<Entry>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("the first line is not a CSV header: {e}"))?
        .clone();
    let column = |names: &[&str]| {
        headers.iter().position(|h| {
            let h = h.trim().to_lowercase().replace([' ', '-'], "_");
            names.contains(&h.as_str())
        })
    };
    let email_col =
        column(&["email", "email_address", "e_mail"]).ok_or("the header has no `email` column")?;
    let first_col = column(&["first_name", "firstname", "given_name"]);
    let last_col = column(&["last_name", "lastname", "surname", "family_name"]);
    let name_col = column(&["name", "full_name"]);
    let external_col = column(&["external_id", "id", "candidate_id"]);
    let labels_col = column(&["labels", "label", "tags"]);
    let locale_col = column(&["locale", "language", "lang"]);
    let zone_col = column(&["time_zone", "timezone", "tz"]);
    let mut entries = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let mut entry = Entry::new(i as u32 + 1);
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                entry.problem = Some(format!("the row is not valid CSV: {e}"));
                entries.push(entry);
                continue;
            }
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let field = |col: Option<usize>| col.and_then(|c| record.get(c)).unwrap_or("").trim();
        let raw_email = field(Some(email_col));
        let name = match name_col.map(|c| record.get(c).unwrap_or("").trim()) {
            Some(name) if !name.is_empty() => name.to_string(),
            _ => format!("{} {}", field(first_col), field(last_col))
                .trim()
                .to_string(),
        };
        let result = checked_email(raw_email).and_then(|email| {
            let name = checked_text(&name, "the name")?;
            let external_id = checked_text(field(external_col), "external_id")?;
            let labels = field(labels_col)
                .split(';')
                .map(|l| checked_text(l, "a label"))
                .filter(|l| !matches!(l, Ok(l) if l.is_empty()))
                .collect::<Result<Vec<_>, _>>()?;
            let locale = match field(locale_col) {
                "" => None,
                tag => Some(
                    beckon_i18n::Locale::canonical_tag(tag)
                        .map_err(|refused| format!("the locale {refused}"))?,
                ),
            };
            let time_zone = match field(zone_col) {
                "" => None,
                zone => Some(
                    super::time_zone::TimeZone::parse(zone)
                        .map_err(|problem| format!("the time zone `{zone}` {problem}"))?
                        .name()
                        .to_string(),
                ),
            };
            Ok((email, name, external_id, labels, locale, time_zone))
        });
        match result {
            Ok((email, name, external_id, labels, locale, time_zone)) => {
                entry.email = email;
                entry.name = name;
                entry.external_id = external_id;
                entry.labels = labels;
                entry.locale = locale;
                entry.time_zone = time_zone;
            }
            Err(problem) => {
                entry.email = raw_email.to_string();
                entry.name = name;
                entry.problem = Some(problem);
            }
        }
        entries.push(entry);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_list_reads_names_and_addresses_and_numbers_rows() {
        let entries = parse_pasted(
            "ada@example.com\n\"Lovelace, Ada\" <Ada@Example.org>, Grace Hopper <grace@example.com>;\nnot-an-address\n\n",
        );
        let summary: Vec<_> = entries
            .iter()
            .map(|e| {
                (
                    e.row,
                    e.email.as_str(),
                    e.name.as_str(),
                    e.problem.is_some(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (1, "ada@example.com", "", false),
                (2, "ada@example.org", "Lovelace, Ada", false),
                (3, "grace@example.com", "Grace Hopper", false),
                (4, "not-an-address", "", true),
            ]
        );
    }

    #[test]
    fn csv_rows_keep_their_numbers_and_say_what_is_wrong() {
        let entries = parse_csv(
            "Email,First Name,Last Name,External ID,Labels\n\
             ada@example.com,Ada,Lovelace,ats-1,spring;backend\n\
             broken,Bob,,ats-2,\n\
             grace@example.com,Grace,Hopper,,\n",
        )
        .expect("csv");
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].name, "Ada Lovelace");
        assert_eq!(entries[0].labels, ["spring", "backend"]);
        assert_eq!(entries[0].external_id, "ats-1");
        assert_eq!(entries[1].row, 2);
        assert!(entries[1]
            .problem
            .as_deref()
            .unwrap_or("")
            .contains("broken"));
        assert!(entries[2].problem.is_none());
    }

    #[test]
    fn csv_rows_may_carry_their_candidates_language_and_time_zone() {
        let entries = parse_csv(
            "email,language,timezone\n\
             ada@example.com,pt-br,America/Sao_Paulo\n\
             grace@example.com,,\n\
             alan@example.com,klingon,\n\
             hedy@example.com,de,Europe/Atlantis\n",
        )
        .expect("csv");
        assert_eq!(entries[0].locale.as_deref(), Some("pt-BR"));
        assert_eq!(entries[0].time_zone.as_deref(), Some("America/Sao_Paulo"));
        assert_eq!(
            (entries[1].locale.as_ref(), entries[1].time_zone.as_ref()),
            (None, None)
        );
        let problem = |i: usize| entries[i].problem.clone().unwrap_or_default();
        assert!(
            problem(2).contains("klingon") && problem(2).contains("pt-BR"),
            "{}",
            problem(2)
        );
        assert!(problem(3).contains("Europe/Atlantis"), "{}", problem(3));
    }

    #[test]
    fn a_file_without_an_email_column_is_refused() {
        assert!(parse_csv("name,phone\nAda,123\n").is_err());
    }
}

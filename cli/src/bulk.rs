//! `invitectl bulk send`: one job, a whole list of candidates, one set of options. The list is
//! checked by the server first (a dry run that writes nothing), shown, confirmed, then sent as
//! one cohort that the server works through in the background while a progress bar follows it.
use std::{
    fs,
    io::{self, BufRead, IsTerminal, Read, Write},
    path::{Path, PathBuf},
};

use anyhow::anyhow;
use beckon_proto::invite::v1::{
    BulkCreateInvitesRequest, BulkPreview, BulkRow, GetJobRequest, RowOutcome, SubmittedPolicy,
};
use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use serde_json::{json, Value};
use tonic::{Code, Status};

use crate::{
    client::{new_request_id, Connector},
    cohorts,
    error::CliError,
    invites::InviteOptions,
    output::{enum_name, print_json, write_aligned, write_table, Format, Record},
};

/// Problem rows shown in text before the prompt; JSON has them all.
const MAX_TEXT_ROWS: usize = 200;
/// CSV header names the server reads (after lower-casing, spaces and dashes as `_`). Kept in
/// step with invite-service's roster parser: a first line naming any of them is a header.
const CSV_COLUMNS: &[&str] = &[
    "email",
    "email_address",
    "e_mail",
    "first_name",
    "firstname",
    "given_name",
    "last_name",
    "lastname",
    "surname",
    "family_name",
    "name",
    "full_name",
    "external_id",
    "candidate_id",
    "labels",
    "label",
    "tags",
];

#[derive(Subcommand)]
pub enum Command {
    /// Invite a list of candidates to a job: checks the list first (nothing is written), shows
    /// the problem rows and how many will be invited, asks, then sends and follows progress.
    ///
    /// The list is a CSV file with a header row naming some of email, name, first_name,
    /// last_name, external_id and labels (separated by `;`), or a pasted list: one candidate
    /// per line (or separated by commas or semicolons), `ada@example.com` or
    /// `Ada Lovelace <ada@example.com>`. Which one is told from the first line.
    Send(SendArgs),
}

#[derive(Args)]
#[command(group(ArgGroup::new("source").required(true).args(["file", "list", "input"])))]
pub struct SendArgs {
    /// The job to invite the candidates to.
    #[arg(long = "job", value_name = "JOB_ID")]
    job_id: String,
    /// The candidates: a CSV file with a header row, or a pasted list; `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// The candidates as a pasted list, even if the first line looks like a CSV header; `-`
    /// reads standard input.
    #[arg(long, value_name = "FILE")]
    list: Option<PathBuf>,
    /// Same as --file: `-` for standard input.
    #[arg(value_name = "FILE")]
    input: Option<PathBuf>,
    #[command(flatten)]
    options: InviteOptions,
    /// Invite candidates who already have a pending or started invite for this job again.
    #[arg(long)]
    include_pending: bool,
    /// What to do with candidates who already submitted for this job.
    #[arg(long, value_enum, default_value_t = Submitted::Skip)]
    submitted: Submitted,
    /// Send without asking, for scripts (required with --output json or without a terminal).
    #[arg(long, short = 'y')]
    yes: bool,
    /// Only check the list and show what would happen; nothing is written.
    #[arg(long, conflicts_with = "yes")]
    dry_run: bool,
    /// Return once the cohort is made, without following it; `cohorts watch` follows it later.
    #[arg(long)]
    no_wait: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Submitted {
    /// Leave them out.
    Skip,
    /// Reopen their submitted invite, on the same link.
    Reopen,
    /// Give them a new invite: a retake.
    Retake,
}

impl From<Submitted> for SubmittedPolicy {
    fn from(submitted: Submitted) -> Self {
        match submitted {
            Submitted::Skip => SubmittedPolicy::Skip,
            Submitted::Reopen => SubmittedPolicy::Reopen,
            Submitted::Retake => SubmittedPolicy::Retake,
        }
    }
}

pub async fn run(command: Command, connector: &Connector, format: Format) -> anyhow::Result<()> {
    match command {
        Command::Send(args) => send(args, connector, format).await,
    }
}

async fn send(args: SendArgs, connector: &Connector, format: Format) -> anyhow::Result<()> {
    if format == Format::Json && !args.yes && !args.dry_run {
        return Err(CliError::usage(
            "--output json never asks for confirmation: pass --yes to send, or --dry-run to \
             only check the list",
        ));
    }
    // The input's own problems are reported before any call, and before a missing key or an
    // unreachable server.
    let input = Input::read(&args)?;
    let connection = connector.connect().await?;
    let mut client = connection.invites();

    let mut request = BulkCreateInvitesRequest {
        job_id: args.job_id.clone(),
        send_email: args.options.send_email,
        ttl: args.options.ttl(),
        remind_after: args.options.remind_after(),
        message: args.options.message.clone().unwrap_or_default(),
        locked: args.options.locked,
        assignee_ids: args.options.assignee_ids.clone(),
        labels: args.options.labels.clone(),
        time_zone: args.options.time_zone.clone().unwrap_or_default(),
        locale: args.options.locale.clone().unwrap_or_default(),
        include_pending: args.include_pending,
        submitted_policy: SubmittedPolicy::from(args.submitted) as i32,
        validate_only: true,
        ..Default::default()
    };
    match input.kind {
        Kind::Csv => request.csv = input.text.clone(),
        Kind::List => request.pasted_list = input.text.clone(),
    }

    let checked = client
        .bulk_create_invites(request.clone())
        .await
        .map_err(|status| explain(status, &input))?
        .into_inner();
    let preview = checked.preview.unwrap_or_default();
    if format == Format::Text {
        // The title makes the confirmation about something the user recognises.
        let title = connection
            .jobs()
            .get_job(GetJobRequest {
                id: args.job_id.clone(),
            })
            .await
            .map(|job| job.into_inner().title)
            .unwrap_or_default();
        print_preview(&input, &preview, &args, &title)?;
    }
    let nothing_to_do = args.dry_run || preview.to_invite == 0;
    if nothing_to_do {
        if format == Format::Json {
            return print_json(&json!({
                "preview": preview_json(&preview),
                "cohort": Value::Null,
                "failed": [],
            }));
        }
        if !args.dry_run {
            println!("nothing to invite; no invite was made");
        }
        return Ok(());
    }
    if !args.yes {
        confirm(preview.to_invite)?;
    }

    // A fresh request_id: this run's send, never mistaken for an earlier one.
    request.validate_only = false;
    request.request_id = new_request_id();
    let sent = client
        .bulk_create_invites(request)
        .await
        .map_err(|status| explain(status, &input))?
        .into_inner();
    let cohort = sent
        .cohort
        .ok_or_else(|| anyhow!("the server answered the send without a cohort"))?;
    // The server checks the list again when sending; the list of pending invites may have
    // changed in between.
    let preview = match sent.preview {
        Some(sent) if sent.to_invite != preview.to_invite => {
            eprintln!(
                "note: {} will be invited, not {}: invites for this job changed since the check",
                sent.to_invite, preview.to_invite
            );
            sent
        }
        _ => preview,
    };
    if format == Format::Text {
        println!("\ncohort {} started", cohort.id);
    }
    if args.no_wait {
        return match format {
            Format::Json => print_json(&json!({
                "preview": preview_json(&preview),
                "cohort": cohorts::record(&cohort).json(),
                "failed": [],
            })),
            Format::Text => {
                println!(
                    "it goes on on the server: `invitectl cohorts watch {}` follows it",
                    cohort.id
                );
                Ok(())
            }
        };
    }
    let details = cohorts::follow(&mut client, &cohort, format).await?;
    if format == Format::Text {
        println!();
    }
    cohorts::print_outcome(format, Some(preview_json(&preview)), &details)
}

/// Adds what the user can do about a refused list.
fn explain(status: Status, input: &Input) -> anyhow::Error {
    match status.code() {
        // The server's (or tonic's) size limit for one request.
        Code::OutOfRange | Code::ResourceExhausted if status.message().contains("too large") => {
            anyhow::Error::new(status).context(format!(
                "{} is larger than the server accepts in one request \
                 (its max_request_bytes); split it into smaller lists",
                input.name
            ))
        }
        _ => status.into(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Csv,
    List,
}

struct Input {
    /// The file's name, or "standard input", for messages.
    name: String,
    kind: Kind,
    text: String,
}

impl Input {
    fn read(args: &SendArgs) -> anyhow::Result<Self> {
        let (path, forced) = match (&args.file, &args.list, &args.input) {
            (_, Some(path), _) => (path, Some(Kind::List)),
            (Some(path), _, _) | (_, _, Some(path)) => (path, None),
            // clap's group makes one of them required.
            (None, None, None) => {
                return Err(CliError::usage("give --file FILE, --list FILE or -"))
            }
        };
        let (name, bytes) = read_bytes(path)?;
        let text = decode(&name, bytes)?;
        let kind = forced.unwrap_or_else(|| detect(&text));
        check_not_empty(&name, &text, kind)?;
        check_quotes(&name, &text, kind)?;
        Ok(Self { name, kind, text })
    }
}

fn read_bytes(path: &Path) -> anyhow::Result<(String, Vec<u8>)> {
    if path == Path::new("-") {
        let mut stdin = io::stdin();
        if stdin.is_terminal() {
            eprintln!("paste the candidates, one per line, then press Ctrl-D:");
        }
        let mut bytes = Vec::new();
        stdin
            .read_to_end(&mut bytes)
            .map_err(|err| CliError::Usage(format!("cannot read standard input: {err}")))?;
        return Ok(("standard input".into(), bytes));
    }
    let name = path.display().to_string();
    let bytes =
        fs::read(path).map_err(|err| CliError::Usage(format!("cannot read {name}: {err}")))?;
    Ok((name, bytes))
}

/// UTF-8, without a byte-order mark (Excel writes one into "CSV UTF-8" files).
fn decode(name: &str, bytes: Vec<u8>) -> anyhow::Result<String> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(CliError::usage(format!(
            "{name} is UTF-16 text; save it as UTF-8 (in Excel: \"CSV UTF-8\")"
        )));
    }
    let text = String::from_utf8(bytes).map_err(|err| {
        let valid = &err.as_bytes()[..err.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        CliError::Usage(format!(
            "{name} is not UTF-8 text (line {line}); save it as UTF-8 (in Excel: \"CSV UTF-8\")"
        ))
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// CSV if the first line is a header naming a column the server reads (and holds no address,
/// which a header never does); anything else is a pasted list.
fn detect(text: &str) -> Kind {
    let Some(first) = text.lines().find(|line| !line.trim().is_empty()) else {
        return Kind::List;
    };
    if first.contains('@') {
        return Kind::List;
    }
    let names_a_column = first.split(',').any(|cell| {
        let cell = cell.trim().trim_matches('"').trim().to_lowercase();
        CSV_COLUMNS.contains(&cell.replace([' ', '-'], "_").as_str())
    });
    match names_a_column {
        true => Kind::Csv,
        false => Kind::List,
    }
}

/// An empty list is refused here, before any call: nothing to check, nothing to write.
fn check_not_empty(name: &str, text: &str, kind: Kind) -> anyhow::Result<()> {
    let mut lines = text.lines().filter(|line| !line.trim().is_empty());
    let rows = match kind {
        Kind::Csv => lines.skip(1).count(),
        Kind::List => lines.next().map_or(0, |_| 1),
    };
    match (rows, kind) {
        (0, Kind::Csv) => Err(CliError::usage(format!(
            "{name} has a header row but no candidates"
        ))),
        (0, Kind::List) => Err(CliError::usage(format!("{name} is empty: no candidates"))),
        _ => Ok(()),
    }
}

/// A quote opened and never closed turns the rest of the file into one field, silently: the
/// server would report one broken row where the user has hundreds of good ones. Caught here,
/// with the line the quote opens on.
fn check_quotes(name: &str, text: &str, kind: Kind) -> anyhow::Result<()> {
    let opened_on = match kind {
        Kind::Csv => unclosed_csv_quote(text),
        Kind::List => unclosed_list_quote(text),
    };
    match opened_on {
        Some(line) => Err(CliError::usage(format!(
            "{name}: the quote opened on line {line} is never closed, so everything after it \
             would read as one field; close it or remove it"
        ))),
        None => Ok(()),
    }
}

/// As CSV reads quotes: one opens a quoted field only as the field's first character, and
/// `""` inside it is a quote, not its end. Answers the line of a quote left open.
fn unclosed_csv_quote(text: &str) -> Option<usize> {
    let (mut line, mut open, mut field_start) = (1, None, true);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (open, c) {
            (Some(_), '"') if chars.peek() == Some(&'"') => {
                chars.next();
            }
            (Some(_), '"') => {
                open = None;
                field_start = false;
            }
            (Some(_), _) => {}
            (None, '"') if field_start => open = Some(line),
            (None, ',' | '\n' | '\r') => field_start = true,
            (None, _) => field_start = false,
        }
        if c == '\n' {
            line += 1;
        }
    }
    open
}

/// As the server splits a pasted list: every `"` opens or closes a quote.
fn unclosed_list_quote(text: &str) -> Option<usize> {
    let (mut line, mut open) = (1, None);
    for c in text.chars() {
        match c {
            '"' => open = if open.is_some() { None } else { Some(line) },
            '\n' => line += 1,
            _ => {}
        }
    }
    open
}

fn print_preview(
    input: &Input,
    preview: &BulkPreview,
    args: &SendArgs,
    job_title: &str,
) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    let kind = match input.kind {
        Kind::Csv => "CSV with a header row",
        Kind::List => "a list",
    };
    writeln!(
        out,
        "checked {} ({kind}): {} rows",
        input.name, preview.total
    )?;
    let counts = [
        ("valid", preview.valid),
        ("malformed", preview.malformed),
        ("duplicates", preview.duplicates),
        ("already pending", preview.pending),
        ("already submitted", preview.submitted),
        ("suppressed", preview.suppressed),
    ]
    .map(|(label, n)| (label.to_string(), n.to_string()));
    write_aligned(&mut out, "  ", &counts)?;

    let problems: Vec<Record> = preview
        .rows
        .iter()
        .filter(|row| row.outcome != RowOutcome::Valid as i32)
        .map(row_record)
        .collect();
    if !problems.is_empty() {
        let numbering = match input.kind {
            Kind::Csv => " (row 1 is the line after the header)",
            Kind::List => "",
        };
        writeln!(out, "\nrows not plainly valid{numbering}:")?;
        let shown = &problems[..problems.len().min(MAX_TEXT_ROWS)];
        write_table(
            &mut out,
            "rows",
            shown,
            &["row", "outcome", "email", "reason"],
        )?;
        if problems.len() > shown.len() {
            writeln!(
                out,
                "... and {} more; `--dry-run --output json` lists them all",
                problems.len() - shown.len()
            )?;
        }
    }

    let job = match job_title {
        "" => format!("job {}", args.job_id),
        title => format!("\"{title}\" (job {})", args.job_id),
    };
    let verb = if args.dry_run { "would be" } else { "will be" };
    writeln!(out, "\n{} {verb} invited to {job}.", preview.to_invite)?;
    if !args.options.send_email && preview.to_invite > 0 {
        writeln!(
            out,
            "no email will be sent (no --send-email): the links are made but reach no one until \
             `invitectl invites resend`"
        )?;
    }
    Ok(())
}

/// Asks on the terminal itself, not standard input, which may be the list.
fn confirm(count: u32) -> anyhow::Result<()> {
    let no_terminal = || {
        CliError::usage(
            "not sending: there is no terminal to confirm on; pass --yes to send without \
             asking, or --dry-run to only check",
        )
    };
    if !io::stderr().is_terminal() {
        return Err(no_terminal());
    }
    #[cfg(unix)]
    const TERMINAL: &str = "/dev/tty";
    #[cfg(windows)]
    const TERMINAL: &str = "CONIN$";
    let terminal = fs::File::open(TERMINAL).map_err(|_| no_terminal())?;
    eprint!("invite {count} candidates? [y/N] ");
    io::stderr().flush()?;
    let mut answer = String::new();
    io::BufReader::new(terminal).read_line(&mut answer)?;
    match answer.trim().to_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(CliError::Cancelled("cancelled: nothing was sent".into()).into()),
    }
}

fn row_record(row: &BulkRow) -> Record {
    let outcome = RowOutcome::try_from(row.outcome)
        .ok()
        .map(|o| o.as_str_name());
    Record::without_id("row")
        .field("row", row.row)
        .field("outcome", enum_name(outcome, "ROW_OUTCOME_", row.outcome))
        .field("email", row.email.as_str())
        .field("name", row.name.as_str())
        .field("reason", row.reason.as_str())
}

fn preview_json(preview: &BulkPreview) -> Value {
    json!({
        "total": preview.total,
        "valid": preview.valid,
        "malformed": preview.malformed,
        "duplicates": preview.duplicates,
        "pending": preview.pending,
        "submitted": preview.submitted,
        "suppressed": preview.suppressed,
        "to_invite": preview.to_invite,
        "rows": preview.rows.iter().map(|row| row_record(row).json()).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_naming_known_columns_is_csv() {
        assert_eq!(detect("email,name\nada@example.com,Ada\n"), Kind::Csv);
        assert_eq!(
            detect("\n\"E-mail\" , First Name\nada@x.org,Ada\n"),
            Kind::Csv
        );
        assert_eq!(detect("name,phone\nAda,1\n"), Kind::Csv);
    }

    #[test]
    fn anything_else_is_a_pasted_list() {
        assert_eq!(detect("ada@example.com\ngrace@example.com\n"), Kind::List);
        assert_eq!(
            detect("Ada Lovelace <ada@example.com>, bob@x.org"),
            Kind::List
        );
        // A CSV without a header: its first line holds an address.
        assert_eq!(detect("ada@example.com,Ada Lovelace\n"), Kind::List);
        assert_eq!(detect("foo,bar\n"), Kind::List);
    }

    #[test]
    fn bad_bytes_are_reported_with_their_line() {
        let err = decode("c.csv", b"email\nada@x.org\n\xff\n".to_vec()).err();
        let message = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains("c.csv is not UTF-8 text (line 3)"),
            "{message}"
        );
        assert!(decode("c.csv", b"\xff\xfee\0".to_vec()).is_err());
        let stripped = decode("c.csv", b"\xef\xbb\xbfemail\n".to_vec()).ok();
        assert_eq!(stripped.as_deref(), Some("email\n"));
    }

    #[test]
    fn a_quote_left_open_is_found_with_its_line() {
        let csv = "email,name\na@x.org,\"Lovelace, Ada\"\nb@x.org,\"Say \"\"hi\"\"\"\nc@x.org,\"Bob\nd@x.org,D\n";
        assert_eq!(unclosed_csv_quote(csv), Some(4));
        // A quote inside an unquoted field is a plain character in CSV.
        assert_eq!(
            unclosed_csv_quote("email,name\na@x.org,Dwayne \"Rock\n"),
            None
        );
        assert_eq!(unclosed_csv_quote("email\n\"a@x.org\"\n"), None);
        assert_eq!(
            unclosed_list_quote("\"Ada\" <a@x.org>\n\"Bob <b@x.org>\n"),
            Some(2)
        );
        assert_eq!(unclosed_list_quote("\"Lovelace, Ada\" <a@x.org>\n"), None);
    }

    #[test]
    fn empty_lists_are_refused() {
        assert!(check_not_empty("f", " \n\n", Kind::List).is_err());
        assert!(check_not_empty("f", "email,name\n\n", Kind::Csv).is_err());
        assert!(check_not_empty("f", "email\nada@x.org\n", Kind::Csv).is_ok());
    }
}

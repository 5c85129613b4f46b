//! `invitectl cohorts`: what a bulk invite (one `bulk send`) became. The server makes the
//! invites in the background, then (with `--send-email`) follows every email to its outcome;
//! these commands list cohorts, show their candidates, follow one to its end with a progress
//! bar through both stages, and retry the failed candidates.
use std::{
    collections::BTreeMap,
    io::{self, IsTerminal, Write},
    time::Duration,
};

use beckon_proto::invite::v1::{
    cohort_update::Update, invite_service_client::InviteServiceClient, Cohort, CohortDetails,
    CohortEmails, CohortMember, CohortState, DeliveryStatus, GetCohortRequest, ListCohortsRequest,
    MemberState, RetryCohortFailuresRequest, WatchCohortRequest,
};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};
use tonic::{Code, Status};

use crate::{
    client::{all_pages, AuthChannel, Connector},
    error::CliError,
    output::{enum_name, print_json, timestamp, write_table, Format, Record},
};

type Client = InviteServiceClient<AuthChannel>;

/// Stream ends or transient errors in a row, without any update between, before giving up.
const MAX_QUIET_REWATCHES: u32 = 10;
const REWATCH_PAUSE: Duration = Duration::from_secs(1);
/// Failed rows shown in text; all of them are in `cohorts show` and in JSON.
const MAX_TEXT_ROWS: usize = 200;

#[derive(Subcommand)]
pub enum Command {
    /// List the cohorts of the last 48 hours (or --within-hours), newest first.
    List {
        /// How far back to look, 1 to 720 hours.
        #[arg(long, value_name = "HOURS", value_parser = clap::value_parser!(u32).range(1..=720))]
        within_hours: Option<u32>,
    },
    /// Show a cohort's counts and its pending, succeeded and failed candidates (with
    /// --send-email, succeeded means emailed).
    Show { id: String },
    /// Follow a cohort to its end with a progress bar (its invites, then its emails), then show
    /// its outcome.
    Watch { id: String },
    /// Try the cohort's failed candidates again, with corrected addresses where given.
    Retry {
        id: String,
        /// A corrected address for a failed row, e.g. `--fix 7=ada@example.com`; repeat for
        /// more. Failed rows without one are retried as they are. A candidate whose email
        /// failed keeps their invite and link, which are emailed to the corrected address.
        #[arg(long = "fix", value_name = "ROW=EMAIL", value_parser = parse_fix)]
        fixes: Vec<(u32, String)>,
        /// Return once the retry has started, without waiting for its outcome.
        #[arg(long)]
        no_wait: bool,
    },
}

pub async fn run(command: Command, connector: &Connector, format: Format) -> anyhow::Result<()> {
    let mut client = connector.connect().await?.invites();
    match command {
        Command::List { within_hours } => {
            let cohorts = all_pages(|page_size, page_token| {
                let mut client = client.clone();
                let request = ListCohortsRequest {
                    page_size,
                    page_token,
                    within_hours: within_hours.unwrap_or(0),
                };
                async move {
                    let page = client.list_cohorts(request).await?.into_inner();
                    Ok((page.cohorts, page.next_page_token))
                }
            })
            .await?;
            let records: Vec<Record> = cohorts.iter().map(record).collect();
            let columns = [
                "id",
                "state",
                "total",
                "succeeded",
                "failed",
                "pending",
                "create_time",
                "job_id",
            ];
            format.print_list("cohorts", &records, &columns)
        }
        Command::Show { id } => {
            let details = client
                .get_cohort(GetCohortRequest { id })
                .await?
                .into_inner();
            print_details(format, &details)
        }
        Command::Watch { id } => {
            let details = client
                .get_cohort(GetCohortRequest { id })
                .await?
                .into_inner();
            let cohort = details.cohort.clone().unwrap_or_default();
            let details = match is_done(&cohort) {
                true => details,
                false => follow(&mut client, &cohort, format).await?,
            };
            print_outcome(format, None, &details)
        }
        Command::Retry { id, fixes, no_wait } => {
            let mut corrected_emails = BTreeMap::new();
            for (row, email) in fixes {
                if corrected_emails.insert(row, email).is_some() {
                    return Err(CliError::usage(format!("--fix names row {row} twice")));
                }
            }
            let request = RetryCohortFailuresRequest {
                cohort_id: id,
                corrected_emails: corrected_emails.into_iter().collect(),
            };
            let cohort = client.retry_cohort_failures(request).await?.into_inner();
            if no_wait {
                return format.print_record(&record(&cohort));
            }
            let details = follow(&mut client, &cohort, format).await?;
            print_outcome(format, None, &details)
        }
    }
}

/// `--fix ROW=EMAIL`. Only the shape is checked here; the server checks the address.
fn parse_fix(value: &str) -> Result<(u32, String), String> {
    let shape = "expected ROW=EMAIL, e.g. 7=ada@example.com";
    let (row, email) = value.split_once('=').ok_or(shape)?;
    let row: u32 = row
        .trim()
        .parse()
        .ok()
        .filter(|row| *row >= 1)
        .ok_or_else(|| format!("`{}` is not a row number; {shape}", row.trim()))?;
    let email = email.trim();
    if email.is_empty() {
        return Err(format!("no address for row {row}; {shape}"));
    }
    Ok((row, email.to_string()))
}

pub fn is_done(cohort: &Cohort) -> bool {
    cohort.state == CohortState::Done as i32
}

/// Follows the cohort until it is done, drawing a progress bar on a terminal in text, and
/// answers with its final details. Ctrl-C stops the watching only: the server carries on.
pub async fn follow(
    client: &mut Client,
    cohort: &Cohort,
    format: Format,
) -> anyhow::Result<CohortDetails> {
    let bar = progress_bar(cohort, format);
    let mut tally = Tally::from(cohort);
    tally.show(&bar);
    let result = tokio::select! {
        result = watch_until_done(client, &cohort.id, &mut tally, &bar) => result,
        // A handler that cannot be installed (`Err`) disables this branch, not the watch.
        Ok(()) = tokio::signal::ctrl_c() => {
            bar.abandon();
            return Err(CliError::Interrupted(format!(
                "stopped watching; cohort {id} goes on on the server: \
                 `invitectl cohorts watch {id}` follows it again",
                id = cohort.id
            ))
            .into());
        }
    };
    bar.finish_and_clear();
    result
}

/// Watches, and watches again when the stream ends or breaks before the cohort is done (e.g.
/// the server's request deadline, or a restart); where WatchCohort is not available, this
/// becomes polling GetCohort once a second.
async fn watch_until_done(
    client: &mut Client,
    id: &str,
    tally: &mut Tally,
    bar: &ProgressBar,
) -> anyhow::Result<CohortDetails> {
    let mut quiet = 0;
    loop {
        match watch_once(client, id, tally, bar).await {
            Ok(true) => quiet = 0,
            Ok(false) => quiet += 1,
            Err(status) if status.code() == Code::Unimplemented => {}
            Err(status) if is_transient(status.code()) && quiet < MAX_QUIET_REWATCHES => {
                quiet += 1;
            }
            Err(status) => return Err(status.into()),
        }
        let details = client
            .get_cohort(GetCohortRequest { id: id.to_string() })
            .await?
            .into_inner();
        if let Some(cohort) = &details.cohort {
            *tally = Tally::from(cohort);
            tally.show(bar);
            if is_done(cohort) {
                return Ok(details);
            }
        }
        if quiet >= MAX_QUIET_REWATCHES {
            return Err(anyhow::anyhow!(
                "cohort {id} is still running but its progress stopped coming; \
                 `invitectl cohorts show {id}` shows where it is"
            ));
        }
        tokio::time::sleep(REWATCH_PAUSE).await;
    }
}

/// One WatchCohort stream, to its end. `Ok(true)` when anything came. The server sends the
/// counts after every batch of outcomes, so the bar follows those.
async fn watch_once(
    client: &mut Client,
    id: &str,
    tally: &mut Tally,
    bar: &ProgressBar,
) -> Result<bool, Status> {
    let request = WatchCohortRequest { id: id.to_string() };
    let mut stream = client.watch_cohort(request).await?.into_inner();
    let mut any = false;
    while let Some(update) = stream.message().await? {
        any = true;
        if let Some(Update::Progress(cohort)) = update.update {
            *tally = Tally::from(&cohort);
            tally.show(bar);
        }
    }
    Ok(any)
}

fn is_transient(code: Code) -> bool {
    matches!(
        code,
        Code::Unavailable
            | Code::DeadlineExceeded
            | Code::Cancelled
            | Code::Aborted
            | Code::ResourceExhausted
            | Code::Unknown
    )
}

/// What the bar shows: the invites while they are made, then the emails.
struct Tally {
    cohort: Cohort,
}

impl From<&Cohort> for Tally {
    fn from(cohort: &Cohort) -> Self {
        Self {
            cohort: cohort.clone(),
        }
    }
}

impl Tally {
    fn show(&self, bar: &ProgressBar) {
        let cohort = &self.cohort;
        match (&cohort.emails, cohort.state == CohortState::Running as i32) {
            (Some(emails), false) => {
                let total = emails.queued
                    + emails.deferred
                    + emails.sent
                    + emails.failed
                    + emails.suppressed;
                bar.set_length(total.into());
                bar.set_position((emails.sent + emails.failed + emails.suppressed).into());
                bar.set_message(format!("emails: {}", emails_line(emails)));
            }
            _ => {
                let total = u64::from(cohort.total);
                bar.set_length(total);
                bar.set_position(u64::from(cohort.succeeded + cohort.failed).min(total));
                let mut message = format!("invited {}/{}", cohort.succeeded, cohort.total);
                if cohort.failed > 0 {
                    message.push_str(&format!(", {} failed", cohort.failed));
                }
                bar.set_message(message);
            }
        }
    }
}

/// On stderr, and only for a person: hidden in JSON and when stderr is not a terminal.
fn progress_bar(cohort: &Cohort, format: Format) -> ProgressBar {
    if format == Format::Json || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(cohort.total.into());
    let style = ProgressStyle::with_template("{spinner} [{bar:30}] {msg} ({elapsed})")
        // The template is fixed and valid; the fallback only guards against a future indicatif
        // refusing it.
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// "17 invited, 2 failed" (and pending, while running); with emails, then
/// "; emails: 15 sent, 1 failed, 1 suppressed".
pub fn counts_line(cohort: &Cohort) -> String {
    let mut line = format!("{} invited, {} failed", cohort.succeeded, cohort.failed);
    if cohort.pending > 0 {
        line.push_str(&format!(", {} pending", cohort.pending));
    }
    if let Some(emails) = &cohort.emails {
        line.push_str(&format!("; emails: {}", emails_line(emails)));
    }
    line
}

/// "15 sent, 1 failed": sent and failed always, the others when there are some.
fn emails_line(emails: &CohortEmails) -> String {
    let mut parts = Vec::new();
    if emails.queued > 0 {
        parts.push(format!("{} queued", emails.queued));
    }
    parts.push(format!("{} sent", emails.sent));
    if emails.deferred > 0 {
        parts.push(format!("{} deferred", emails.deferred));
    }
    parts.push(format!("{} failed", emails.failed));
    if emails.suppressed > 0 {
        parts.push(format!("{} suppressed", emails.suppressed));
    }
    parts.join(", ")
}

/// A finished (or, with --no-wait, started) cohort: the counts and the failed rows. `preview`
/// comes first in JSON for `bulk send`. Some failed candidates make this an error (exit 6)
/// after the answer is printed.
pub fn print_outcome(
    format: Format,
    preview: Option<Value>,
    details: &CohortDetails,
) -> anyhow::Result<()> {
    let cohort = details.cohort.clone().unwrap_or_default();
    let failed: Vec<Record> = details.failed.iter().map(member_record).collect();
    match format {
        Format::Json => {
            let mut answer = json!({
                "cohort": record(&cohort).json(),
                "failed": failed.iter().map(Record::json).collect::<Vec<_>>(),
            });
            if let Some(preview) = preview {
                answer["preview"] = preview;
            }
            print_json(&answer)?;
        }
        Format::Text => {
            let mut out = io::stdout().lock();
            record(&cohort).write_text(&mut out)?;
            writeln!(out, "{}", counts_line(&cohort))?;
            if !failed.is_empty() {
                writeln!(out)?;
                write_section(&mut out, "failed", &failed, &["row", "email", "reason"])?;
                writeln!(
                    out,
                    "\ncorrect and retry them with `invitectl cohorts retry {} --fix ROW=EMAIL`",
                    cohort.id
                )?;
            }
        }
    }
    let undelivered = cohort
        .emails
        .as_ref()
        .map_or(0, |e| e.failed + e.suppressed);
    if cohort.failed + undelivered > 0 {
        return Err(CliError::PartlyFailed(format!(
            "{} of {} candidates failed",
            cohort.failed + undelivered,
            cohort.total
        ))
        .into());
    }
    Ok(())
}

fn print_details(format: Format, details: &CohortDetails) -> anyhow::Result<()> {
    let cohort = details.cohort.clone().unwrap_or_default();
    let sections = [
        ("failed", &details.failed, &["row", "email", "reason"][..]),
        (
            "pending",
            &details.pending,
            &["row", "email", "name", "delivery_status"][..],
        ),
        (
            "succeeded",
            &details.succeeded,
            &["row", "email", "invite_id"][..],
        ),
    ];
    match format {
        Format::Json => {
            let mut answer = json!({ "cohort": record(&cohort).json() });
            for (name, members, _) in sections {
                let members: Vec<Value> = members.iter().map(|m| member_record(m).json()).collect();
                answer[name] = members.into();
            }
            print_json(&answer)
        }
        Format::Text => {
            let mut out = io::stdout().lock();
            record(&cohort).write_text(&mut out)?;
            writeln!(out, "{}", counts_line(&cohort))?;
            for (name, members, columns) in sections {
                let records: Vec<Record> = members.iter().map(member_record).collect();
                writeln!(out)?;
                write_section(&mut out, name, &records, columns)?;
            }
            Ok(())
        }
    }
}

/// `failed (2):` and a table, or `failed: none`. Long sections are cut in text.
fn write_section(
    out: &mut impl Write,
    name: &str,
    records: &[Record],
    columns: &[&str],
) -> io::Result<()> {
    if records.is_empty() {
        return writeln!(out, "{name}: none");
    }
    writeln!(out, "{name} ({}):", records.len())?;
    let shown = &records[..records.len().min(MAX_TEXT_ROWS)];
    write_table(out, name, shown, columns)?;
    if records.len() > shown.len() {
        writeln!(
            out,
            "... and {} more; --output json lists them all",
            records.len() - shown.len()
        )?;
    }
    Ok(())
}

pub fn record(cohort: &Cohort) -> Record {
    Record::new("cohort", &cohort.id)
        .field("job_id", cohort.job_id.as_str())
        .field("state", state_name(cohort.state))
        .field("total", cohort.total)
        .field("pending", cohort.pending)
        .field("succeeded", cohort.succeeded)
        .field("failed", cohort.failed)
        .field("emails_queued", emails_field(cohort, |e| e.queued))
        .field("emails_deferred", emails_field(cohort, |e| e.deferred))
        .field("emails_sent", emails_field(cohort, |e| e.sent))
        .field("emails_failed", emails_field(cohort, |e| e.failed))
        .field("emails_suppressed", emails_field(cohort, |e| e.suppressed))
        .field("summary", cohort.summary.as_str())
        .field("create_time", timestamp(cohort.create_time.as_ref()))
        .field("finish_time", timestamp(cohort.finish_time.as_ref()))
}

/// An email count, or null (left out in text) for a cohort that sends no email.
fn emails_field(cohort: &Cohort, count: impl Fn(&CohortEmails) -> u32) -> Value {
    cohort.emails.as_ref().map(count).into()
}

fn member_record(member: &CohortMember) -> Record {
    let state = MemberState::try_from(member.state)
        .ok()
        .map(|s| s.as_str_name());
    let delivery = DeliveryStatus::try_from(member.delivery_status).ok();
    let delivery_name = match delivery {
        None | Some(DeliveryStatus::Unspecified) => String::new(),
        Some(status) => enum_name(
            Some(status.as_str_name()),
            "DELIVERY_STATUS_",
            member.delivery_status,
        ),
    };
    // Why the candidate is not through: their invite's reason, else their email's.
    let reason = match delivery {
        _ if !member.reason.is_empty() => member.reason.clone(),
        Some(DeliveryStatus::Failed | DeliveryStatus::Suppressed | DeliveryStatus::Deferred) => {
            format!("email {delivery_name}: {}", member.delivery_error)
        }
        _ => String::new(),
    };
    Record::without_id("member")
        .field("row", member.row)
        .field("email", member.email.as_str())
        .field("name", member.name.as_str())
        .field("state", enum_name(state, "MEMBER_STATE_", member.state))
        .field("delivery_status", delivery_name)
        .field("invite_id", member.invite_id.as_str())
        .field("reason", reason)
        .field("delivery_error", member.delivery_error.as_str())
}

fn state_name(state: i32) -> String {
    let name = CohortState::try_from(state).ok().map(|s| s.as_str_name());
    enum_name(name, "COHORT_STATE_", state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixes_are_row_and_address() {
        assert_eq!(
            parse_fix("7=ada@example.com"),
            Ok((7, "ada@example.com".to_string()))
        );
        assert!(parse_fix("ada@example.com").is_err());
        assert!(parse_fix("0=ada@example.com").is_err());
        assert!(parse_fix("x=ada@example.com").is_err());
        assert!(parse_fix("7=").is_err());
    }

    #[test]
    fn the_counts_line_mentions_pending_only_while_some_are() {
        let mut cohort = Cohort {
            succeeded: 17,
            failed: 2,
            ..Cohort::default()
        };
        assert_eq!(counts_line(&cohort), "17 invited, 2 failed");
        cohort.pending = 1;
        assert_eq!(counts_line(&cohort), "17 invited, 2 failed, 1 pending");
    }

    #[test]
    fn the_counts_line_adds_the_emails_of_a_cohort_that_sends_them() {
        let mut cohort = Cohort {
            succeeded: 3000,
            failed: 1,
            emails: Some(CohortEmails {
                sent: 2990,
                deferred: 5,
                failed: 4,
                suppressed: 1,
                ..CohortEmails::default()
            }),
            ..Cohort::default()
        };
        assert_eq!(
            counts_line(&cohort),
            "3000 invited, 1 failed; emails: 2990 sent, 5 deferred, 4 failed, 1 suppressed"
        );
        cohort.emails = Some(CohortEmails {
            queued: 2,
            sent: 1,
            ..CohortEmails::default()
        });
        assert_eq!(
            counts_line(&cohort),
            "3000 invited, 1 failed; emails: 2 queued, 1 sent, 0 failed"
        );
    }
}

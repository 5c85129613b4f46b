//! End-to-end tests of the `invitectl` binary against a real invite-service, booted in-process
//! on SQLite by beckon-tests' `TestApp`. They run the binary as a user or a script would and
//! check what it prints and how it exits.
use std::path::PathBuf;

mod common;

use beckon_tests::{Backend, TestApp};
use common::{Ctl, RUN_TIMEOUT};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_invites_and_keys() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let ctl = Ctl::new(&app);

    let job = ctl.create_job("Backend engineer").await;
    let list = ctl.run(&["jobs", "list"]).await;
    list.assert_code(0);
    assert!(list.stdout.starts_with("ID"), "{}", list.stdout);
    assert!(
        list.stdout.contains(&job) && list.stdout.contains("Backend engineer"),
        "{}",
        list.stdout
    );

    let created = ctl
        .run(&[
            "invites",
            "create",
            "--job",
            &job,
            "--email",
            "ada@example.com",
            "--name",
            "Ada Lovelace",
            "--remind-after-hours",
            "48",
        ])
        .await;
    created.assert_code(0);
    let invite = created.id();
    let link = created.stdout.lines().nth(1).unwrap_or_default();
    assert!(
        link.starts_with(&format!("link {}/i/", app.base_url)),
        "{}",
        created.stdout
    );
    assert!(created.stdout.contains("remind time"), "{}", created.stdout);

    let shown = ctl.run(&["invites", "show", &invite]).await;
    shown.assert_code(0);
    assert!(shown.stdout.starts_with(&format!("invite {invite}\n")));
    assert!(
        shown.stdout.contains("delivery status") && shown.stdout.contains("not_requested"),
        "{}",
        shown.stdout
    );
    // The audit trail, as a table under the invite.
    assert!(shown.stdout.contains("KIND"), "{}", shown.stdout);
    assert!(shown.stdout.contains("created"), "{}", shown.stdout);

    let listed = ctl.run(&["invites", "list", "--job", &job]).await;
    listed.assert_code(0);
    assert!(
        listed.stdout.contains("ada@example.com"),
        "{}",
        listed.stdout
    );

    let key = ctl
        .run(&["keys", "create", "--name", "ATS", "--scope", "invites"])
        .await;
    key.assert_code(0);
    assert!(
        key.stdout
            .lines()
            .nth(1)
            .unwrap_or_default()
            .starts_with("secret bk_"),
        "{}",
        key.stdout
    );
    assert!(key.stderr.contains("shown only now"), "{}", key.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_output_parses_everywhere() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let ctl = Ctl::new(&app);
    let job = ctl.create_job("Data engineer").await;

    let created = ctl
        .run(&[
            "--output",
            "json",
            "invites",
            "create",
            "--job",
            &job,
            "--email",
            "g@example.com",
            "--qr",
        ])
        .await;
    created.assert_code(0);
    let created = created.json();
    let invite = created["invite"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!invite.is_empty());
    assert!(created["link_url"]
        .as_str()
        .unwrap_or_default()
        .contains("/i/"));
    assert!(created["qr"]
        .as_str()
        .unwrap_or_default()
        .contains('\u{2588}'));

    // --output after the subcommand works too: it is global.
    let shown = ctl
        .run(&["invites", "show", &invite, "--output", "json"])
        .await;
    shown.assert_code(0);
    let shown = shown.json();
    assert_eq!(shown["invite"]["id"], invite.as_str());
    assert!(shown["events"].as_array().is_some_and(|e| !e.is_empty()));

    for args in [
        &["jobs", "list"][..],
        &["jobs", "show", &job],
        &["invites", "list"],
        &["keys", "list"],
        &["members", "list"],
        &["whoami"],
    ] {
        let run = ctl.run(&[&["--output", "json"][..], args].concat()).await;
        run.assert_code(0);
        assert!(run.json().is_object(), "{args:?}: {}", run.stdout);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_exit_with_documented_codes_and_name_the_flag() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let ctl = Ctl::new(&app);

    // The server refuses a field: exit 2, and the field is translated to its flag.
    let bad = ctl
        .run(&[
            "jobs",
            "create",
            "--title",
            "Ok",
            "--assessment-url",
            "ftp://x",
        ])
        .await;
    bad.assert_code(2);
    assert!(
        bad.stderr
            .contains("job.assessment_url (--assessment-url):"),
        "{}",
        bad.stderr
    );
    assert!(bad.stdout.is_empty());

    let missing = ctl
        .run(&["invites", "show", "0190f0f0-0000-7000-8000-000000000000"])
        .await;
    missing.assert_code(3);

    let mut wrong_key = Ctl::new(&app);
    wrong_key.key = Some("bk_not_a_real_key".into());
    wrong_key.run(&["whoami"]).await.assert_code(5);

    // A key that can read invites but not manage keys.
    let links_key = ctl
        .run(&[
            "--output", "json", "keys", "create", "--name", "ext", "--scope", "links",
        ])
        .await;
    links_key.assert_code(0);
    let mut limited = Ctl::new(&app);
    limited.key = links_key.json()["secret"].as_str().map(str::to_string);
    limited.run(&["keys", "list"]).await.assert_code(5);

    let mut no_key = Ctl::new(&app);
    no_key.key = None;
    let run = no_key.run(&["whoami"]).await;
    run.assert_code(2);
    assert!(
        run.stderr.contains("an API key is required"),
        "{}",
        run.stderr
    );

    // Nothing listens on port 1: exit 7, worth retrying later.
    let unreachable = ctl.run(&["--server", "http://127.0.0.1:1", "whoami"]).await;
    unreachable.assert_code(7);
    assert!(
        unreachable.stderr.contains("cannot reach the server"),
        "{}",
        unreachable.stderr
    );

    // clap's own usage errors are 2 as well, and name the flag.
    let usage = ctl
        .run(&["invites", "create", "--job", "j", "--ttl-hours", "0"])
        .await;
    usage.assert_code(2);
    assert!(usage.stderr.contains("--ttl-hours"), "{}", usage.stderr);

    let help = Ctl::offline().run(&["--help"]).await;
    help.assert_code(0);
    assert!(help.stdout.contains("Exit codes:"), "{}", help.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_file_ranks_below_flags_and_the_environment() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let ctl = Ctl::offline();
    let dir = ctl.path("xdg/beckon");
    std::fs::create_dir_all(&dir).expect("config dir");
    let file = dir.join("invitectl.toml");
    let config = format!(
        "server = \"{}\"\nkey = \"{}\"\n",
        app.base_url, app.admin_key
    );
    std::fs::write(&file, config).expect("config file");
    let xdg = ctl.path("xdg");
    let xdg = xdg.to_str().expect("utf-8 path");

    // The file alone is enough.
    let run = ctl
        .run_with(&["whoami"], None, &[("XDG_CONFIG_HOME", xdg)])
        .await;
    run.assert_code(0);
    assert!(run.stdout.contains("organization"), "{}", run.stdout);

    // The environment wins over the file, and a flag over the environment.
    let env_key = [("XDG_CONFIG_HOME", xdg), ("BECKON_API_KEY", "bk_wrong")];
    ctl.run_with(&["whoami"], None, &env_key)
        .await
        .assert_code(5);
    let flag_key = ["--key", &app.admin_key, "whoami"];
    ctl.run_with(&flag_key, None, &env_key).await.assert_code(0);

    // ~/.config is the fallback, and --config names any file.
    let home_dir = ctl.path(".config/beckon");
    std::fs::create_dir_all(&home_dir).expect("home config dir");
    std::fs::copy(&file, home_dir.join("invitectl.toml")).expect("copy config");
    ctl.run(&["whoami"]).await.assert_code(0);
    let explicit = file.to_str().expect("utf-8 path");
    ctl.run(&["--config", explicit, "whoami"])
        .await
        .assert_code(0);

    // A typo is named, with the file and the line.
    std::fs::write(&file, "sever = \"http://x\"\n").expect("config file");
    let typo = ctl.run(&["--config", explicit, "whoami"]).await;
    typo.assert_code(2);
    assert!(
        typo.stderr.contains(explicit)
            && typo.stderr.contains("line 1")
            && typo.stderr.contains("sever"),
        "{}",
        typo.stderr
    );
    let missing = ctl
        .run(&["--config", "/nonexistent/invitectl.toml", "whoami"])
        .await;
    missing.assert_code(2);
    assert!(
        missing.stderr.contains("/nonexistent/invitectl.toml"),
        "{}",
        missing.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_and_qr_codes_need_no_server() {
    let ctl = Ctl::offline();

    let bash = ctl.run(&["completions", "bash"]).await;
    bash.assert_code(0);
    assert!(bash.stdout.contains("complete") && bash.stdout.contains("invitectl"));
    for shell in ["zsh", "fish"] {
        let run = ctl.run(&["completions", shell]).await;
        run.assert_code(0);
        assert!(!run.stdout.is_empty());
    }

    let link = "http://127.0.0.1:8080/i/Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXhx";
    let svg = ctl.path("link.svg");
    let png = ctl.path("link.png");
    let files = ctl
        .run(&[
            "invites",
            "qr",
            link,
            "--svg",
            svg.to_str().expect("utf-8 path"),
            "--png",
            png.to_str().expect("utf-8 path"),
        ])
        .await;
    files.assert_code(0);
    let svg = std::fs::read_to_string(&svg).expect("svg written");
    assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
    let png = std::fs::read(&png).expect("png written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));

    // In the terminal, from a pipe: the first URL of `invites create`'s output.
    let piped = format!("invite 0190\nlink {link}\n  status  sent\n");
    let text = ctl.run_with(&["invites", "qr"], Some(&piped), &[]).await;
    text.assert_code(0);
    assert!(text.stdout.contains('\u{2588}') && text.stdout.contains('\u{2580}'));

    let id = ctl
        .run(&["invites", "qr", "0190f0f0-0000-7000-8000-000000000000"])
        .await;
    id.assert_code(2);
    assert!(id.stderr.contains("only when it is made"), "{}", id.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bulk_input_is_refused_before_any_call() {
    // No key and an unreachable server: the input's own problems must come first.
    let mut ctl = Ctl::offline();
    ctl.server = Some("http://127.0.0.1:1".into());
    let empty = ctl.path("empty.csv");
    std::fs::write(&empty, "\n  \n").expect("file");
    let header_only = ctl.path("header.csv");
    std::fs::write(&header_only, "email,name\n").expect("file");
    let latin1 = ctl.path("latin1.csv");
    std::fs::write(&latin1, b"email,name\nada@example.com,Ren\xe9e\n").expect("file");
    let unclosed = ctl.path("unclosed.csv");
    std::fs::write(
        &unclosed,
        "email,name\nada@example.com,\"Ada\nbob@example.com,Bob\n",
    )
    .expect("file");
    let path = |p: &PathBuf| p.to_str().expect("utf-8 path").to_string();

    for (file, message) in [
        (path(&empty), "is empty: no candidates"),
        (path(&header_only), "has a header row but no candidates"),
        (path(&latin1), "is not UTF-8 text (line 2)"),
        (path(&ctl.path("missing.csv")), "cannot read"),
        (
            path(&unclosed),
            "the quote opened on line 2 is never closed",
        ),
    ] {
        let run = ctl
            .run(&["bulk", "send", "--job", "j", "--file", &file, "--yes"])
            .await;
        run.assert_code(2);
        assert!(run.stderr.contains(message), "{file}: {}", run.stderr);
        assert!(run.stdout.is_empty());
    }

    let stdin_empty = ctl
        .run_with(&["bulk", "send", "--job", "j", "-", "--yes"], Some(""), &[])
        .await;
    stdin_empty.assert_code(2);
    assert!(stdin_empty.stderr.contains("standard input is empty"));

    let no_source = ctl.run(&["bulk", "send", "--job", "j"]).await;
    no_source.assert_code(2);
}

/// 20 rows: 17 good, a malformed one at rows 5 and 12, and row 20 repeating row 1.
fn twenty_row_csv() -> String {
    let mut csv = String::from("email,name\n");
    for row in 1..=20 {
        let line = match row {
            5 => "not-an-email,Broken One".to_string(),
            12 => "also@@broken,Broken Two".to_string(),
            20 => "candidate1@example.com,Repeat".to_string(),
            n => format!("candidate{n}@example.com,Candidate {n}"),
        };
        csv.push_str(&line);
        csv.push('\n');
    }
    csv
}

/// Awaits the server's BulkCreateInvites, GetCohort, WatchCohort and ListCohorts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_send_reports_bad_rows_and_invites_the_rest() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let ctl = Ctl::new(&app);
    let job = ctl.create_job("Bulk hiring").await;
    let csv = ctl.path("candidates.csv");
    std::fs::write(&csv, twenty_row_csv()).expect("csv");
    let csv = csv.to_str().expect("utf-8 path");

    // Without a terminal and without --yes: the check is shown, nothing is sent.
    let refused = ctl
        .run(&["bulk", "send", "--job", &job, "--file", csv])
        .await;
    refused.assert_code(2);
    assert!(
        refused.stdout.contains("17 will be invited"),
        "{}",
        refused.stdout
    );
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);

    // The malformed rows are the cohort's failed members, to correct with `cohorts retry`:
    // exit 6, "finished, but some candidates failed".
    let sent = ctl
        .run(&["bulk", "send", "--job", &job, "--file", csv, "--yes"])
        .await;
    sent.assert_code(6);
    let out = &sent.stdout;
    assert!(out.contains("20 rows"), "{out}");
    // The dry run's problem rows, by row number.
    let problem = |row: &str, outcome: &str| {
        out.lines()
            .any(|line| line.starts_with(&format!("{row} ")) && line.contains(outcome))
    };
    assert!(problem("5", "malformed"), "{out}");
    assert!(problem("12", "malformed"), "{out}");
    assert!(problem("20", "duplicate"), "{out}");
    assert!(out.contains("17 will be invited"), "{out}");
    // The final summary.
    assert!(out.contains("17 invited, 2 failed"), "{out}");
    assert!(
        sent.stderr.contains("2 of 19 candidates failed"),
        "{}",
        sent.stderr
    );
    let cohort = out
        .lines()
        .find_map(|line| line.strip_prefix("cohort "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no cohort line in {out}"))
        .to_string();

    let listed = ctl.run(&["cohorts", "list"]).await;
    listed.assert_code(0);
    assert!(listed.stdout.contains(&cohort), "{}", listed.stdout);
    let shown = ctl
        .run(&["cohorts", "show", &cohort, "--output", "json"])
        .await;
    shown.assert_code(0);
    let shown = shown.json();
    assert_eq!(shown["cohort"]["succeeded"], 17);
    assert_eq!(shown["succeeded"].as_array().map(Vec::len), Some(17));
    assert_eq!(shown["failed"].as_array().map(Vec::len), Some(2));

    // Corrected addresses for the failed rows: everyone is invited now.
    let retried = ctl
        .run(&[
            "cohorts",
            "retry",
            &cohort,
            "--fix",
            "5=fixed5@example.com",
            "--fix",
            "12=fixed12@example.com",
        ])
        .await;
    retried.assert_code(0);
    assert!(
        retried.stdout.contains("19 invited, 0 failed"),
        "{}",
        retried.stdout
    );

    // A pasted list on standard input, for a script: one JSON object, no prompt.
    let other = ctl.create_job("Bulk hiring, round 2").await;
    let list = "Ada Lovelace <ada@example.com>\ngrace@example.com, nope\n";
    let scripted = ctl
        .run_with(
            &[
                "bulk", "send", "--job", &other, "-", "--yes", "--output", "json",
            ],
            Some(list),
            &[],
        )
        .await;
    scripted.assert_code(6);
    let answer = scripted.json();
    assert_eq!(answer["preview"]["total"], 3);
    assert_eq!(answer["preview"]["malformed"], 1);
    assert_eq!(answer["preview"]["to_invite"], 2);
    assert_eq!(answer["cohort"]["succeeded"], 2);
    assert_eq!(answer["failed"][0]["row"], 3);
    assert_eq!(answer["failed"][0]["email"], "nope");

    // --output json never prompts: it needs --yes or --dry-run.
    let unconfirmed = ctl
        .run(&[
            "bulk", "send", "--job", &job, "--file", csv, "--output", "json",
        ])
        .await;
    unconfirmed.assert_code(2);
    let dry = ctl
        .run(&[
            "bulk",
            "send",
            "--job",
            &job,
            "--file",
            csv,
            "--dry-run",
            "--output",
            "json",
        ])
        .await;
    dry.assert_code(0);
    assert_eq!(dry.json()["cohort"], Value::Null);
}

/// A bulk send with email is followed past the invites to every email's outcome; a bounced
/// address is corrected with `cohorts retry` and emailed again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_send_with_email_waits_for_every_email_and_retries_a_bounce() {
    let smtp = beckon_tests::smtp::SmtpServer::start().await;
    smtp.always("bounce@example.com", 550);
    let app = TestApp::spawn_with_mail(Backend::Sqlite, &smtp).await;
    let ctl = Ctl::new(&app);
    let job = ctl.create_job("Bulk mail").await;
    let list = "ada@example.com\ngrace@example.com\nbounce@example.com\n";
    let sent = ctl
        .run_with(
            &["bulk", "send", "--job", &job, "-", "--yes", "--send-email"],
            Some(list),
            &[],
        )
        .await;
    sent.assert_code(6);
    let out = &sent.stdout;
    assert!(
        out.contains("3 invited, 0 failed; emails: 2 sent, 1 failed"),
        "{out}"
    );
    assert!(out.contains("state") && out.contains("done"), "{out}");
    assert!(
        out.lines()
            .any(|line| line.starts_with("3 ") && line.contains("email failed")),
        "the bounced row and why: {out}"
    );
    assert!(
        sent.stderr.contains("1 of 3 candidates failed"),
        "{}",
        sent.stderr
    );
    let cohort = out
        .lines()
        .find_map(|line| line.strip_prefix("cohort "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no cohort line in {out}"))
        .to_string();

    let retried = ctl
        .run(&["cohorts", "retry", &cohort, "--fix", "3=fixed@example.com"])
        .await;
    retried.assert_code(0);
    assert!(
        retried
            .stdout
            .contains("3 invited, 0 failed; emails: 3 sent, 0 failed"),
        "{}",
        retried.stdout
    );
    let mail = smtp
        .wait_for(RUN_TIMEOUT, beckon_tests::smtp::to("fixed@example.com"))
        .await;
    assert!(mail.iter().any(|m| m.to == ["fixed@example.com"]));
}

/// Awaits the server's SetJobPublicLink and RotateJobPublicLink.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_link_url_is_printed_when_made() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let ctl = Ctl::new(&app);
    let job = ctl.create_job("Open day").await;

    let on = ctl.run(&["jobs", "public", "on", &job, "--qr"]).await;
    on.assert_code(0);
    let url = on.stdout.lines().nth(1).unwrap_or_default();
    assert!(url.starts_with("public_url http"), "{}", on.stdout);
    // Labels are padded to the longest one's width.
    assert!(
        on.stdout.lines().any(|line| line
            .split_whitespace()
            .eq(["public", "link", "enabled", "yes"])),
        "{}",
        on.stdout
    );
    assert!(on.stdout.contains('\u{2588}'), "{}", on.stdout);

    let rotated = ctl
        .run(&["--output", "json", "jobs", "public", "rotate", &job])
        .await;
    rotated.assert_code(0);
    let rotated = rotated.json();
    let new_url = rotated["public_url"].as_str().unwrap_or_default();
    assert!(new_url.starts_with("http") && !url.ends_with(new_url));

    let off = ctl
        .run(&["--output", "json", "jobs", "public", "off", &job])
        .await;
    off.assert_code(0);
    assert_eq!(off.json()["job"]["public_link_enabled"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_ids_and_existing_candidates() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let ctl = Ctl::new(&app);
    let job = ctl.create_job("Backend engineer").await;

    let created = ctl
        .run(&[
            "invites",
            "create",
            "--job",
            &job,
            "--email",
            "ada@example.com",
            "--external-id",
            "app-1",
        ])
        .await;
    created.assert_code(0);
    let invite = created.id();
    assert!(
        created.stdout.contains("external id") && created.stdout.contains("app-1"),
        "{}",
        created.stdout
    );

    // A second live invite with the id is refused: exit 4, naming the invite that has it.
    let taken = ctl
        .run(&[
            "invites",
            "create",
            "--job",
            &job,
            "--email",
            "bob@example.com",
            "--external-id",
            "app-1",
        ])
        .await;
    taken.assert_code(4);
    assert!(taken.stderr.contains(&invite), "{}", taken.stderr);
    assert!(taken.stdout.is_empty());

    let found = ctl.run(&["invites", "lookup", "app-1"]).await;
    found.assert_code(0);
    assert!(
        found.stdout.starts_with(&format!("invite {invite}\n")),
        "{}",
        found.stdout
    );
    assert!(found.stdout.contains("KIND"), "the audit trail follows");
    ctl.run(&["invites", "lookup", "app-404"])
        .await
        .assert_code(3);

    ctl.run(&[
        "invites",
        "create",
        "--job",
        &job,
        "--email",
        "cy@example.com",
    ])
    .await
    .assert_code(0);
    let listed = ctl.run(&["invites", "list"]).await;
    listed.assert_code(0);
    assert!(listed.stdout.contains("EXTERNAL ID"), "{}", listed.stdout);
    let filtered = ctl
        .run(&[
            "--output",
            "json",
            "invites",
            "list",
            "--external-id",
            "app-1",
        ])
        .await;
    filtered.assert_code(0);
    let filtered = filtered.json();
    let rows = filtered["invites"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 1, "{filtered}");
    assert_eq!(rows[0]["id"], invite.as_str());
    assert_eq!(rows[0]["external_id"], "app-1");

    // The same candidate again, by id: no email to repeat.
    let shown = ctl
        .run(&["--output", "json", "invites", "show", &invite])
        .await;
    shown.assert_code(0);
    let candidate = shown.json()["invite"]["candidate_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!candidate.is_empty());
    let again = ctl
        .run(&[
            "--output",
            "json",
            "invites",
            "create",
            "--job",
            &job,
            "--candidate",
            &candidate,
        ])
        .await;
    again.assert_code(0);
    let again = again.json();
    assert_eq!(again["invite"]["candidate_id"], candidate.as_str());
    assert_eq!(again["invite"]["candidate_email"], "ada@example.com");

    let both = ctl
        .run(&[
            "invites",
            "create",
            "--job",
            &job,
            "--candidate",
            &candidate,
            "--email",
            "ada@example.com",
        ])
        .await;
    both.assert_code(2);
    assert!(both.stderr.contains("--candidate"), "{}", both.stderr);

    let bad = ctl
        .run(&[
            "invites",
            "create",
            "--job",
            &job,
            "--email",
            "dee@example.com",
            "--external-id",
            "two\nlines",
        ])
        .await;
    bad.assert_code(2);
    assert!(
        bad.stderr.contains("external_id (--external-id)"),
        "{}",
        bad.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_are_made_admins_and_changed() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let ctl = Ctl::new(&app);
    let created = ctl
        .run(&[
            "--output",
            "json",
            "members",
            "create",
            "--email",
            "ops@acme.test",
            "--name",
            "Ops",
            "--admin",
        ])
        .await;
    created.assert_code(0);
    let created = created.json();
    assert_eq!(created["admin"], true, "{created}");
    let id = created["id"].as_str().unwrap_or_default().to_string();

    let changed = ctl
        .run(&[
            "--output", "json", "members", "update", &id, "--admin", "false",
        ])
        .await;
    changed.assert_code(0);
    let changed = changed.json();
    assert_eq!(changed["admin"], false, "{changed}");
    assert_eq!(changed["name"], "Ops", "only the flag given changes");

    // Nothing to change is a usage error, before any call.
    ctl.run(&["members", "update", &id]).await.assert_code(2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ashby_key_is_set_from_standard_input_and_never_shown() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let ctl = Ctl::new(&app);
    let shown = ctl.run(&["--output", "json", "ats", "show", "ashby"]).await;
    shown.assert_code(0);
    assert_eq!(shown.json()["api_key_set"], false, "{}", shown.stdout);

    let set = ctl
        .run_with(
            &["--output", "json", "ats", "set-key", "ashby"],
            Some("ashby-secret-key-42\n"),
            &[],
        )
        .await;
    set.assert_code(0);
    assert_eq!(set.json()["api_key_set"], true, "{}", set.stdout);
    assert!(!set.stdout.contains("ashby-secret-key-42"));
    let shown = ctl.run(&["ats", "show", "ashby"]).await;
    shown.assert_code(0);
    assert!(!shown.stdout.contains("ashby-secret-key-42"));

    // No key on standard input is a usage error, before any call.
    let empty = ctl
        .run_with(&["ats", "set-key", "ashby"], Some(""), &[])
        .await;
    empty.assert_code(2);
    assert!(
        empty.stderr.contains("standard input is empty"),
        "{}",
        empty.stderr
    );
    let cleared = ctl
        .run(&["--output", "json", "ats", "set-key", "ashby", "--clear"])
        .await;
    cleared.assert_code(0);
    assert_eq!(cleared.json()["api_key_set"], false);

    for listing in [["ats", "errors"], ["ats", "callbacks"]] {
        let run = ctl.run(&listing).await;
        run.assert_code(0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn languages_are_set_on_the_organization_jobs_invites_and_members() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let ctl = Ctl::new(&app);
    let shown = ctl.run(&["org", "show"]).await;
    shown.assert_code(0);
    assert!(
        shown.stdout.contains("default locale  en"),
        "{}",
        shown.stdout
    );

    let refused = ctl
        .run(&["org", "update", "--default-locale", "klingon"])
        .await;
    refused.assert_code(2);
    assert!(
        refused.stderr.contains("(--default-locale)") && refused.stderr.contains("pt-BR"),
        "{}",
        refused.stderr
    );
    let updated = ctl
        .run(&[
            "--output",
            "json",
            "org",
            "update",
            "--default-locale",
            "de-at",
        ])
        .await;
    updated.assert_code(0);
    assert_eq!(updated.json()["default_locale"], "de-AT");

    let job = ctl
        .run(&[
            "--output",
            "json",
            "jobs",
            "create",
            "--title",
            "Data engineer",
            "--assessment-url",
            "https://assess.example/start",
            "--locale",
            "es",
        ])
        .await;
    job.assert_code(0);
    let job = job.json();
    assert_eq!(job["locale"], "es", "{job}");
    let job_id = job["id"].as_str().unwrap_or_default().to_string();
    let cleared = ctl
        .run(&["--output", "json", "jobs", "locale", &job_id, ""])
        .await;
    cleared.assert_code(0);
    assert_eq!(
        cleared.json()["locale"],
        "",
        "the organization's default again"
    );

    let invite = ctl
        .run(&[
            "--output",
            "json",
            "invites",
            "create",
            "--job",
            &job_id,
            "--email",
            "ada@example.com",
            "--locale",
            "pt-BR",
        ])
        .await;
    invite.assert_code(0);
    assert_eq!(
        invite.json()["invite"]["locale"],
        "pt-BR",
        "{}",
        invite.stdout
    );
    let refused = ctl
        .run(&[
            "invites",
            "create",
            "--job",
            &job_id,
            "--email",
            "alan@example.com",
            "--locale",
            "xx",
        ])
        .await;
    refused.assert_code(2);
    assert!(refused.stderr.contains("(--locale)"), "{}", refused.stderr);

    let member = ctl
        .run(&[
            "--output",
            "json",
            "members",
            "create",
            "--email",
            "grace@acme.test",
            "--locale",
            "fr",
        ])
        .await;
    member.assert_code(0);
    assert_eq!(member.json()["locale"], "fr");
}

//! `invitectl`: the admin command-line client for Beckon's invite-service.
mod ats;
mod bulk;
mod client;
mod cohorts;
mod config;
mod error;
mod invites;
mod jobs;
mod keys;
mod members;
mod org;
mod output;
mod qr;
mod webhooks;
mod whoami;

use std::{io, path::PathBuf, process::ExitCode};

use clap::{Args, CommandFactory, Parser, Subcommand};
use clap_complete::Shell;
use tonic::transport::Endpoint;

use crate::{
    client::{BearerAuth, Connector},
    output::Format,
};

#[derive(Parser)]
#[command(
    name = "invitectl",
    version,
    about = "Administer Beckon: jobs, invite links, bulk invites, members, API keys and webhooks",
    long_about = "Administer Beckon: jobs, invite links, bulk invites, members, API keys and \
        webhooks.\n\n\
        The server address and API key come from, first to last: --server and --key, \
        BECKON_SERVER and BECKON_API_KEY, then the config file (--config, else \
        $XDG_CONFIG_HOME/beckon/invitectl.toml or ~/.config/beckon/invitectl.toml), which may \
        hold `server = \"http://...\"` and `key = \"bk_...\"`. The default server is \
        http://127.0.0.1:8080.",
    after_long_help = error::EXIT_CODES
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Accepted before or after the subcommand.
#[derive(Args)]
#[command(next_help_heading = "Global options")]
struct GlobalArgs {
    /// The invite-service address [default: http://127.0.0.1:8080, or the config file's]
    // No clap default: it would hide the config file's `server`, which ranks above it.
    #[arg(
        long,
        env = "BECKON_SERVER",
        global = true,
        value_name = "URL",
        value_parser = client::parse_server
    )]
    server: Option<Endpoint>,
    /// The API key to call with; prefer the environment variable or the config file, as flags
    /// show in `ps`.
    #[arg(
        long,
        env = "BECKON_API_KEY",
        global = true,
        hide_env_values = true,
        value_parser = BearerAuth::parse
    )]
    key: Option<BearerAuth>,
    /// The config file [default: $XDG_CONFIG_HOME/beckon/invitectl.toml, else
    /// ~/.config/beckon/invitectl.toml]
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// `text` for people, `json` (one JSON object) for scripts.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    output: Format,
}

#[derive(Subcommand)]
enum Command {
    /// Show the organization and API key you are calling as.
    Whoami,
    /// Create, list, show, close and reopen jobs; turn their public link on or off.
    #[command(subcommand)]
    Jobs(jobs::Command),
    /// Create invite links and manage them; print a link as a QR code.
    #[command(subcommand)]
    Invites(invites::Command),
    /// Invite a whole list of candidates to a job at once.
    #[command(subcommand)]
    Bulk(bulk::Command),
    /// List, show, follow and retry bulk invites.
    #[command(subcommand)]
    Cohorts(cohorts::Command),
    /// Show the organization; change its name or default language.
    #[command(subcommand, alias = "organization")]
    Org(org::Command),
    /// Add and list the organization's members.
    #[command(subcommand)]
    Members(members::Command),
    /// Create, list and revoke API keys.
    #[command(subcommand)]
    Keys(keys::Command),
    /// Send the organization's events to your systems: endpoints, signing secrets, messages and
    /// their delivery attempts, replays.
    #[command(subcommand, alias = "webhook")]
    Webhooks(webhooks::Command),
    /// Beckon as your ATS's assessment partner (Greenhouse, Ashby): the key Beckon calls the
    /// ATS back with, and the errors the ATS reported.
    #[command(subcommand)]
    Ats(ats::Command),
    /// Print a shell completion script.
    ///
    /// For example: `invitectl completions bash >
    /// ~/.local/share/bash-completion/completions/invitectl`, `invitectl completions zsh >
    /// "${fpath[1]}/_invitectl"`, `invitectl completions fish >
    /// ~/.config/fish/completions/invitectl.fish`.
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => error::report(&err),
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let GlobalArgs {
        server,
        key,
        config,
        output,
    } = cli.global;
    // Each command connects when it first needs the server, so that local work and local
    // errors come first.
    let connector = Connector {
        server,
        key,
        config,
    };
    match cli.command {
        Command::Whoami => whoami::run(&connector, output).await,
        Command::Jobs(command) => jobs::run(command, &connector, output).await,
        Command::Invites(command) => invites::run(command, &connector, output).await,
        Command::Bulk(command) => bulk::run(command, &connector, output).await,
        Command::Cohorts(command) => cohorts::run(command, &connector, output).await,
        Command::Org(command) => org::run(command, &connector, output).await,
        Command::Members(command) => members::run(command, &connector, output).await,
        Command::Keys(command) => keys::run(command, &connector, output).await,
        Command::Webhooks(command) => webhooks::run(command, &connector, output).await,
        Command::Ats(command) => ats::run(command, &connector, output).await,
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "invitectl", &mut io::stdout());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}

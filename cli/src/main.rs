//! `invitectl`: the admin command-line client for Beckon's invite-service.
mod client;
mod error;
mod invites;
mod jobs;
mod keys;
mod members;
mod output;
mod whoami;

use std::process::ExitCode;

use clap::{error::ErrorKind, Args, CommandFactory, Parser, Subcommand};
use tonic::transport::Endpoint;

use crate::{
    client::{BearerAuth, Connection},
    output::Format,
};

#[derive(Parser)]
#[command(
    name = "invitectl",
    version,
    about = "Administer Beckon: jobs, invite links, members and API keys"
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
    /// The invite-service address.
    #[arg(
        long,
        env = "BECKON_SERVER",
        global = true,
        value_name = "URL",
        default_value = "http://127.0.0.1:8080",
        value_parser = client::parse_server
    )]
    server: Endpoint,
    /// The API key to call with; prefer the environment variable, as flags show in `ps`.
    // Optional to clap only because clap refuses global arguments that are required; `run`
    // insists on it.
    #[arg(
        long,
        env = "BECKON_API_KEY",
        global = true,
        hide_env_values = true,
        value_parser = BearerAuth::parse
    )]
    key: Option<BearerAuth>,
    /// `text` for people, `json` (one JSON object) for scripts.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    output: Format,
}

#[derive(Subcommand)]
enum Command {
    /// Show the organization and API key you are calling as.
    Whoami,
    /// Create, list, show, close and reopen jobs.
    #[command(subcommand)]
    Jobs(jobs::Command),
    /// Create invite links and manage them.
    #[command(subcommand)]
    Invites(invites::Command),
    /// Add and list the organization's members.
    #[command(subcommand)]
    Members(members::Command),
    /// Create, list and revoke API keys.
    #[command(subcommand)]
    Keys(keys::Command),
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
        output,
    } = cli.global;
    let Some(key) = key else {
        Cli::command()
            .error(
                ErrorKind::MissingRequiredArgument,
                "an API key is required: set BECKON_API_KEY or pass --key",
            )
            .exit()
    };
    let connection = Connection::open(server, key).await?;
    match cli.command {
        Command::Whoami => whoami::run(&connection, output).await,
        Command::Jobs(command) => jobs::run(command, &connection, output).await,
        Command::Invites(command) => invites::run(command, &connection, output).await,
        Command::Members(command) => members::run(command, &connection, output).await,
        Command::Keys(command) => keys::run(command, &connection, output).await,
    }
}

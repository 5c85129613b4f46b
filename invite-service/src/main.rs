//! `invite-service`: serve (the default), `migrate`, or `bootstrap` a new organization.
use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use invite_service::{
    config::{Config, LogFormat},
    store::{organization, Store},
};

#[derive(Parser)]
#[command(
    version,
    about = "Beckon invite-service: secret interview links over gRPC"
)]
struct Cli {
    /// A TOML file of settings; environment variables (BECKON_*) override it.
    #[arg(long, env = invite_service::config::CONFIG_VARIABLE)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve gRPC, gRPC-web and the link pages (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Create an organization and print its first admin key (shown once).
    Bootstrap {
        /// The organization's name.
        #[arg(long)]
        organization: String,
    },
    /// Ask the running service (at its listen_addr) whether it is ready: exit status 0 when
    /// it is, 1 with the reason on stderr when not. A container's health check.
    Health {
        /// Only whether it runs and answers, not whether its database and Redis do.
        #[arg(long)]
        live: bool,
    },
}

/// A configuration error: one line on stderr, exit status 2 (as for a bad command line).
fn configuration_error(err: impl std::fmt::Display) -> ExitCode {
    eprintln!("invite-service: {err}");
    ExitCode::from(2)
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(err) => return configuration_error(err),
    };
    // notify-service's settings are checked as this service's are, before anything starts.
    let notify = match command {
        Command::Serve => match embedded_notify_settings(&config) {
            Ok(notify) => notify,
            Err(err) => return configuration_error(format!("in-process notify-service: {err}")),
        },
        Command::Migrate | Command::Bootstrap { .. } => None,
        Command::Health { live } => {
            return beckon_common::health::command("invite-service", config.listen_addr, live)
                .await;
        }
    };
    let telemetry = match beckon_common::telemetry::init(
        "invite-service",
        config.log_format == LogFormat::Json,
        "info,sqlx=warn,sea_orm=warn",
        config.otlp_endpoint.as_deref(),
    ) {
        Ok(telemetry) => telemetry,
        Err(err) => return configuration_error(format!("otlp_endpoint: {err:#}")),
    };
    let code = match run(command, config, notify).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line, in the configured log format.
            tracing::error!(error = %format!("{err:#}"), "invite-service failed");
            ExitCode::FAILURE
        }
    };
    telemetry.shutdown();
    code
}

async fn run(
    command: Command,
    config: Config,
    notify: Option<notify_service::Config>,
) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            tracing::info!(settings = %config.summary(), "effective configuration");
            if let Some(notify) = &notify {
                tracing::info!(
                    settings = %notify.summary(),
                    "effective configuration of the in-process notify-service"
                );
            }
            let mail = notify.as_ref().map(|n| match &n.smtp {
                Some(smtp) => format!("SMTP server {}:{}", smtp.host, smtp.port()),
                None => format!(".eml files in {}", n.mail_dir().display()),
            });
            let listener = tokio::net::TcpListener::bind(config.listen_addr)
                .await
                .map_err(|e| anyhow::anyhow!("binding listen_addr {}: {e}", config.listen_addr))?;
            // Before the server serves: a SIGTERM from then on stops it gracefully.
            let stop = beckon_common::shutdown::on_signal();
            let server = invite_service::start_with_notify(config, listener, notify).await?;
            println!("Beckon invite-service listening on {}", server.local_addr);
            println!("  gRPC and gRPC-web: http://{}", server.local_addr);
            println!(
                "  candidate links:   {}/i/<token>",
                server.store.config.public_base_url.trim_end_matches('/')
            );
            if let Some(metrics) = server.metrics_addr {
                println!("  metrics:           http://{metrics}/metrics");
            }
            match mail {
                Some(mail) => println!("  email:             {mail} (notify-service in-process)"),
                None => println!("  email:             notify-service at its configured address"),
            }
            if let Some(key) = &server.bootstrap_key {
                println!();
                println!("A new database: this is its admin API key. It is shown only now:");
                println!("  {key}");
                println!();
            }
            // The last line of the banner: scripts wait for it.
            println!("Press Ctrl-C to stop.");
            server.run_until(stop).await
        }
        Command::Migrate => {
            let store = Store::connect(config.into()).await?;
            store.migrate().await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Health { .. } => Ok(()),
        Command::Bootstrap { organization: name } => {
            let store = Store::connect(config.into()).await?;
            store.migrate().await?;
            let name = name.trim();
            if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
                anyhow::bail!("--organization must be 1 to 200 characters on one line");
            }
            let made = organization::bootstrap(&store, name)
                .await
                .map_err(|err| anyhow::anyhow!("creating the organization: {err}"))?;
            println!(
                "organization {} ({})",
                made.organization.name, made.organization.id
            );
            println!("admin API key (shown only now): {}", made.admin_key);
            Ok(())
        }
    }
}

/// With no notify address, notify-service runs in this process with its own settings, read as
/// the standalone service reads them (`BECKON_NOTIFY_CONFIG`, then `BECKON_NOTIFY_*`); its data
/// folder, PostgreSQL database and connection wait default to this service's.
fn embedded_notify_settings(
    config: &Config,
) -> Result<Option<notify_service::Config>, notify_service::config::ConfigError> {
    if config.notify_addr.is_some() {
        return Ok(None);
    }
    let defaults = invite_service::app::embedded_notify_defaults(config);
    let file = std::env::var_os(notify_service::config::CONFIG_VARIABLE).map(PathBuf::from);
    notify_service::Config::load_over(defaults, file.as_deref()).map(Some)
}

//! `notify-service`: serves the notify API and sends mail until stopped (the default), applies
//! its migrations (`migrate`), or asks a running one for its health (`health`).
use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use notify_service::config::{Config, LogFormat};

#[derive(Parser)]
#[command(
    version,
    about = "Beckon notify-service: email delivery at a controlled rate, nothing lost"
)]
struct Cli {
    /// A TOML file of settings; environment variables (BECKON_NOTIFY_*) override it.
    #[arg(long, env = notify_service::config::CONFIG_VARIABLE)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the notify API and send mail (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Ask the running service (at its listen_addr) whether it is ready: exit status 0 when
    /// it is, 1 with the reason on stderr when not. A container's health check.
    Health {
        /// Only whether it runs and answers, not whether its database and Redis do.
        #[arg(long)]
        live: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(err) => {
            // One line, exit status 2 (as for a bad command line).
            eprintln!("notify-service: {err}");
            return ExitCode::from(2);
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Health { live } = command {
        return beckon_common::health::command("notify-service", config.listen_addr, live).await;
    }
    let telemetry = match beckon_common::telemetry::init(
        "notify-service",
        config.log_format == LogFormat::Json,
        "info,sqlx=warn,sea_orm=warn",
        config.otlp_endpoint.as_deref(),
    ) {
        Ok(telemetry) => telemetry,
        Err(err) => {
            eprintln!("notify-service: otlp_endpoint: {err:#}");
            return ExitCode::from(2);
        }
    };
    if let Command::Migrate = command {
        let migrated = async {
            let store = notify_service::store::Store::connect(std::sync::Arc::new(config)).await?;
            store.migrate().await
        };
        return match migrated.await {
            Ok(()) => {
                println!("migrations applied");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("notify-service: {err:#}");
                ExitCode::FAILURE
            }
        };
    }
    tracing::info!(settings = %config.summary(), "effective configuration");
    let result = async {
        // Before the server serves: a SIGTERM from then on stops it gracefully.
        let stop = beckon_common::shutdown::on_signal();
        let running = notify_service::start(config).await?;
        if let Some(metrics) = running.metrics_addr {
            println!("  metrics: http://{metrics}/metrics");
        }
        println!("Beckon notify-service listening on {}", running.local_addr);
        running.run_until(stop).await
    }
    .await;
    telemetry.shutdown();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("notify-service: {err:#}");
            ExitCode::FAILURE
        }
    }
}

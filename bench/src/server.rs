//! Boots invite-service in this process the way tests/src/lib.rs does, and makes (and drops) the
//! throwaway PostgreSQL database a run uses.
use std::{
    net::{IpAddr, SocketAddr},
    time::Duration,
};

use anyhow::Context;
use invite_service::{Config, RunningServer};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

/// A server on 127.0.0.1 with a database of its own.
pub struct BenchServer {
    pub addr: SocketAddr,
    pub base_url: String,
    pub admin_key: String,
    /// The database the server uses (its SQLite file, or the PostgreSQL URL it was given).
    pub database_url: String,
    server: RunningServer,
    _data_dir: tempfile::TempDir,
}

impl BenchServer {
    /// `database_url`: `None` for a SQLite file in a temporary folder.
    pub async fn start(database_url: Option<String>) -> anyhow::Result<Self> {
        Self::start_with(database_url, None, |_| {}).await
    }

    /// As `start`, with settings changed by `configure`. `again`: the data folder and admin key
    /// of an earlier server on this database (from `stop_keep_data`), to start it again.
    pub async fn start_with(
        database_url: Option<String>,
        again: Option<(tempfile::TempDir, String)>,
        configure: impl FnOnce(&mut Config),
    ) -> anyhow::Result<Self> {
        let (data_dir, known_key) = match again {
            Some((data_dir, key)) => (data_dir, Some(key)),
            None => (
                tempfile::tempdir().context("making a temporary data folder")?,
                None,
            ),
        };
        // Bound first, so the address is known and the server is ready when start_on returns.
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("binding 127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let mut config = Config {
            listen_addr: addr,
            public_base_url: base_url.clone(),
            data_dir: data_dir.path().to_path_buf(),
            database_url,
            ..Config::default()
        };
        configure(&mut config);
        config.validate()?;
        let database_url = config.database_url();
        let server = invite_service::start_on(config, listener)
            .await
            .context("starting invite-service")?;
        let admin_key = match known_key {
            Some(key) => key,
            None => server
                .bootstrap_key
                .clone()
                .context("a fresh database should have printed an admin key")?,
        };
        Ok(Self {
            addr,
            base_url,
            admin_key,
            database_url,
            server,
            _data_dir: data_dir,
        })
    }

    /// Graceful shutdown, bounded in time; the temporary folder (and a SQLite file in it) is
    /// kept until the returned handle is dropped.
    pub async fn stop_keep_data(self) -> anyhow::Result<tempfile::TempDir> {
        tokio::time::timeout(Duration::from_secs(30), self.server.shutdown())
            .await
            .context("the server did not shut down within 30 s")??;
        Ok(self._data_dir)
    }

    /// Graceful shutdown, bounded in time.
    pub async fn stop(self) -> anyhow::Result<()> {
        tokio::time::timeout(Duration::from_secs(30), self.server.shutdown())
            .await
            .context("the server did not shut down within 30 s")?
    }
}

/// Only PostgreSQL on this machine: the benchmark sends load to nothing else.
pub fn check_postgres_is_local(admin_url: &str) -> anyhow::Result<()> {
    let url = url::Url::parse(admin_url).with_context(|| format!("parsing {admin_url}"))?;
    anyhow::ensure!(
        matches!(url.scheme(), "postgres" | "postgresql"),
        "--postgres-url must be a postgres:// URL, not {admin_url}"
    );
    let local = match url.host() {
        None => true,
        // postgres:// is not a "special" scheme to the url crate: its host stays a plain name.
        Some(url::Host::Domain(name)) => is_local_host(name),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
    };
    let socket_host_local = url
        .query_pairs()
        .filter(|(key, _)| key == "host")
        .all(|(_, value)| value.starts_with('/') || is_local_host(&value));
    anyhow::ensure!(
        local && socket_host_local,
        "--postgres-url must name a server on this machine (127.0.0.1, localhost or a Unix \
         socket); got {admin_url}"
    );
    Ok(())
}

/// Empty, `localhost`, a loopback address (bracketed or not) or a Unix socket folder.
fn is_local_host(name: &str) -> bool {
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    name.is_empty()
        || name == "localhost"
        || name.starts_with('/')
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Connects to the PostgreSQL server that holds the benchmark's databases.
pub async fn connect_admin(admin_url: &str) -> anyhow::Result<DatabaseConnection> {
    tokio::time::timeout(Duration::from_secs(10), Database::connect(admin_url))
        .await
        .context("timed out after 10 s")?
        .map_err(anyhow::Error::from)
}

/// A fresh database `beckon_bench_<uuid>` on the admin URL's server: (its name, its URL).
pub async fn create_postgres_database(
    admin: &DatabaseConnection,
    admin_url: &str,
) -> anyhow::Result<(String, String)> {
    let name = format!("beckon_bench_{}", uuid::Uuid::now_v7().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .with_context(|| format!("CREATE DATABASE {name}"))?;
    let mut url = url::Url::parse(admin_url)?;
    url.set_path(&format!("/{name}"));
    Ok((name, url.to_string()))
}

/// Drops a database made by `create_postgres_database`, closing what still uses it.
pub async fn drop_postgres_database(admin: &DatabaseConnection, name: &str) -> anyhow::Result<()> {
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .with_context(|| format!("DROP DATABASE {name}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_postgres() {
        for ok in [
            "postgres://postgres@127.0.0.1:5432/postgres",
            "postgres://postgres@localhost/postgres",
            "postgresql://u:p@[::1]:5432/db",
            "postgres:///postgres?host=/var/run/postgresql",
        ] {
            assert!(check_postgres_is_local(ok).is_ok(), "{ok}");
        }
        for bad in [
            "postgres://postgres@10.0.0.5:5432/postgres",
            "postgres://db.example.com/postgres",
            "postgres://127.0.0.1/postgres?host=db.example.com",
            "mysql://127.0.0.1/x",
        ] {
            assert!(check_postgres_is_local(bad).is_err(), "{bad}");
        }
    }
}

//! invitectl's config file: `server` and `key`, so that neither has to be typed or exported in
//! every shell. It ranks below flags and environment variables and above the built-in default.
use std::{
    fs, io,
    path::{Path, PathBuf},
};

use serde::Deserialize;

use crate::error::CliError;

/// Where the file is looked for, below the config directory.
const RELATIVE_PATH: &str = "beckon/invitectl.toml";

/// The file's settings. Unknown keys are refused, so that a typo (`sever = …`) is reported
/// instead of silently falling back to the default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub server: Option<String>,
    pub key: Option<String>,
}

/// A config file that was found and read.
#[derive(Debug)]
pub struct Loaded {
    pub path: PathBuf,
    pub config: FileConfig,
}

/// `$XDG_CONFIG_HOME/beckon/invitectl.toml`, else `~/.config/beckon/invitectl.toml`. The same
/// rule on every platform (as git and gh do for their own files) rather than macOS's "Application
/// Support", so that the one documented path is the right one wherever invitectl runs.
pub fn default_path() -> Option<PathBuf> {
    // The XDG spec says a relative value is invalid and must be ignored.
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute());
    let dir = xdg.or_else(|| dirs::home_dir().map(|home| home.join(".config")))?;
    Some(dir.join(RELATIVE_PATH))
}

/// Reads `explicit` (`--config`), which must exist, or else the default file if there is one.
pub fn load(explicit: Option<&Path>) -> Result<Option<Loaded>, CliError> {
    let (path, required) = match explicit {
        Some(path) => (path.to_path_buf(), true),
        None => match default_path() {
            Some(path) => (path, false),
            None => return Ok(None),
        },
    };
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound && !required => return Ok(None),
        Err(err) => {
            let what = match err.kind() {
                io::ErrorKind::InvalidData => "is not UTF-8 text".to_string(),
                _ => format!("cannot be read: {err}"),
            };
            return Err(CliError::Usage(format!(
                "config file {} {what}",
                path.display()
            )));
        }
    };
    let config = parse(&text)
        .map_err(|err| CliError::Usage(format!("config file {}: {err}", path.display())))?;
    if config.key.is_some() {
        warn_if_readable_by_others(&path);
    }
    Ok(Some(Loaded { path, config }))
}

fn parse(text: &str) -> Result<FileConfig, String> {
    // toml's message spans several lines (the line quoted, a caret); one line reads better
    // after "config file PATH:".
    toml::from_str(text).map_err(|err| {
        let message = err.message().trim().to_string();
        match err.span() {
            Some(span) => {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                format!("line {line}: {message}")
            }
            None => message,
        }
    })
}

/// The file holds a secret: say so when other users can read it, as ssh does for keys.
#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            eprintln!(
                "warning: {} holds an API key and other users can read it; run `chmod 600 {}`",
                path.display(),
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_server_and_key() {
        let config = parse("server = \"http://beckon:8080\"\nkey = \"bk_x\"\n");
        assert!(matches!(
            config,
            Ok(FileConfig { server: Some(s), key: Some(k) }) if s == "http://beckon:8080" && k == "bk_x"
        ));
    }

    #[test]
    fn names_the_line_and_the_unknown_key() {
        let err = parse("server = \"http://x\"\nsever = \"http://y\"\n").err();
        let err = err.unwrap_or_default();
        assert!(err.starts_with("line 2: "), "{err}");
        assert!(err.contains("sever"), "{err}");
    }

    #[test]
    fn a_missing_default_file_is_no_error_but_a_missing_explicit_one_is() {
        let dir = std::env::temp_dir().join(format!("invitectl-{}", uuid::Uuid::new_v4()));
        assert!(matches!(
            load(Some(&dir.join("none.toml"))),
            Err(CliError::Usage(_))
        ));
    }
}

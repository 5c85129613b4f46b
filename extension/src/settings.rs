//! Checks what the recruiter types into the options page, and what the server says about itself.
use crate::errors::UserError;

/// The API major version this extension speaks (`Caller.api_version`, e.g. "1.0").
pub const SUPPORTED_API_MAJOR: &str = "1";
/// Every Beckon API key starts with this.
pub const API_KEY_PREFIX: &str = "bk_";

/// `beckon.example.com` or `http://127.0.0.1:8080/` → the base URL calls are made against,
/// without a trailing slash. Without a scheme, local addresses get http and others https.
pub fn normalize_server_address(input: &str) -> Result<String, UserError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(bad_address("Enter the address of your Beckon server."));
    }
    let with_scheme = if input.contains("://") {
        input.to_string()
    } else if is_local(input) {
        format!("http://{input}")
    } else {
        format!("https://{input}")
    };
    if with_scheme.contains(['?', '#']) {
        return Err(bad_address(
            "The address can't have a ? or # part: use just the server's address.",
        ));
    }
    // http's URI parser rather than the url crate: it is already in the wasm build for gRPC,
    // while url's international-domain tables would double the extension's size.
    let uri: http::Uri = with_scheme.parse().map_err(|_| {
        bad_address(format!(
            "\"{input}\" isn't a web address. It looks like https://beckon.example.com."
        ))
    })?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    match uri.host() {
        Some(host) if scheme_ok && !host.is_empty() => {
            Ok(uri.to_string().trim_end_matches('/').to_string())
        }
        _ => Err(bad_address(
            "The address must start with http:// or https://.",
        )),
    }
}

fn is_local(input: &str) -> bool {
    ["localhost", "127.", "[::1]"]
        .iter()
        .any(|start| input.starts_with(start))
}

fn bad_address(detail: impl Into<String>) -> UserError {
    let mut error = UserError::new("bad_address", "Check the server address.", detail);
    error.fix_in_options = true;
    error
}

/// What an enrolment link (`<server>/enroll#be_…`, made by an admin) says: which server, and
/// the one-time code the extension trades there for its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentLink {
    pub server: String,
    pub code: String,
}

pub fn parse_enrollment_link(text: &str) -> Result<EnrollmentLink, UserError> {
    let bad = |detail: &str| {
        let mut error = UserError::new("bad_enrollment_link", "Check the enrolment link.", detail);
        error.fix_in_options = true;
        error
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(bad("Paste the enrolment link your Beckon admin sent you."));
    }
    let Some((address, code)) = text.split_once('#') else {
        return Err(bad(
            "The link is cut short: it ends with #be_ and a long code. Copy the whole address.",
        ));
    };
    let code = code.trim();
    let base = address
        .trim_end_matches('/')
        .strip_suffix("/enroll")
        .filter(|_| code.starts_with("be_") && code.len() > "be_".len());
    match base {
        Some(base) => Ok(EnrollmentLink {
            server: normalize_server_address(base)?,
            code: code.to_string(),
        }),
        None => Err(bad(
            "That isn't a Beckon enrolment link: they look like https://beckon.example.com/enroll#be_….",
        )),
    }
}

/// Catches pasting the wrong thing before any call is made.
pub fn check_api_key(key: &str) -> Result<(), UserError> {
    let key = key.trim();
    let problem = if key.is_empty() {
        Some("Enter an API key. Your Beckon admin can make one with the links scope.")
    } else if !key.starts_with(API_KEY_PREFIX) {
        Some("Beckon API keys start with bk_. Check that you pasted the whole key.")
    } else if !key.chars().all(|c| c.is_ascii_graphic()) {
        Some("The key has spaces or unusual characters in it. Paste it again.")
    } else {
        None
    };
    match problem {
        Some(detail) => {
            let mut error = UserError::new("bad_key", "Check the API key.", detail);
            error.fix_in_options = true;
            Err(error)
        }
        None => Ok(()),
    }
}

/// What "Test connection" says once the server has answered, in the recruiter's words: whose
/// key it is and what it may do (no versions, no key again: the form shows it once already).
pub fn connection_summary(key_name: &str, scope: &str, open_jobs: usize) -> String {
    let may = match scope {
        "links" => "make interview links",
        "invites" => "make and manage invites",
        _ => "do everything, including admin work (a links key is enough here)",
    };
    let jobs = match open_jobs {
        0 => "No open jobs yet: create one in Beckon first.".to_string(),
        1 => "1 open job.".to_string(),
        n => format!("{n} open jobs."),
    };
    format!("The key \"{key_name}\" may {may}. {jobs}")
}

/// Servers report their API version; an empty or older major one can't serve this extension.
pub fn check_api_version(version: &str) -> Result<(), UserError> {
    let major = version.split('.').next().unwrap_or_default();
    if major == SUPPORTED_API_MAJOR {
        return Ok(());
    }
    let (title, detail) = match major.parse::<u32>() {
        Ok(n) if n > 1 => (
            "This extension is too old for the server.",
            format!("The server speaks API {version}. Update the Beckon extension."),
        ),
        _ => (
            "The Beckon server is too old for this extension.",
            format!(
                "It reports API version \"{version}\"; this extension needs {SUPPORTED_API_MAJOR}.x. Ask your Beckon admin to update the server."
            ),
        ),
    };
    Err(UserError::new("version_mismatch", title, detail))
}

/// Shows enough of a key to recognise it, never the secret part.
pub fn masked_key(prefix: &str) -> String {
    format!("{prefix}_••••••••")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_get_a_scheme_and_lose_the_trailing_slash() {
        let ok = |s: &str| normalize_server_address(s).expect(s);
        assert_eq!(ok("beckon.example.com"), "https://beckon.example.com");
        assert_eq!(
            ok(" https://beckon.example.com/ "),
            "https://beckon.example.com"
        );
        assert_eq!(ok("127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(ok("localhost:8080/"), "http://localhost:8080");
        assert_eq!(
            ok("https://example.com/beckon/"),
            "https://example.com/beckon"
        );
    }

    #[test]
    fn bad_addresses_are_refused_in_plain_words() {
        for input in [
            "",
            "ftp://example.com",
            "https://example.com/?x=1",
            "http://",
        ] {
            let error = normalize_server_address(input).expect_err(input);
            assert_eq!(error.kind, "bad_address", "{input}");
        }
    }

    #[test]
    fn keys_must_look_like_beckon_keys() {
        assert!(check_api_key("bk_0123456789ab_secret").is_ok());
        assert_eq!(check_api_key("").expect_err("refused").kind, "bad_key");
        assert!(check_api_key("sk-live-123")
            .expect_err("refused")
            .detail
            .contains("bk_"));
        assert!(check_api_key("bk_12 34").is_err());
    }

    #[test]
    fn only_api_major_version_1_is_spoken() {
        assert!(check_api_version("1.0").is_ok());
        assert_eq!(
            parse_enrollment_link(" https://beckon.example.com/enroll#be_abc ").expect("parsed"),
            EnrollmentLink {
                server: "https://beckon.example.com".into(),
                code: "be_abc".into()
            }
        );
        assert_eq!(
            parse_enrollment_link("http://127.0.0.1:8080/base/enroll/#be_x")
                .expect("parsed")
                .server,
            "http://127.0.0.1:8080/base"
        );
        for cut in [
            "",
            "https://beckon.example.com/enroll",
            "https://beckon.example.com/enroll#",
            "https://beckon.example.com/i/abc#be_x",
            "bk_123_secret",
        ] {
            assert_eq!(
                parse_enrollment_link(cut).expect_err(cut).kind,
                "bad_enrollment_link"
            );
        }
        assert_eq!(
            connection_summary("Chrome", "links", 2),
            "The key \"Chrome\" may make interview links. 2 open jobs."
        );
        assert!(connection_summary("Ops", "admin", 1).contains("a links key is enough"));
        assert!(connection_summary("Chrome", "links", 0).contains("No open jobs yet"));
        assert!(check_api_version("1.7").is_ok());
        assert!(check_api_version("")
            .expect_err("refused")
            .title
            .contains("server is too old"));
        assert!(check_api_version("2.0")
            .expect_err("refused")
            .title
            .contains("extension is too old"));
    }

    #[test]
    fn masked_keys_show_only_the_prefix() {
        assert_eq!(masked_key("bk_1a2b3c4d"), "bk_1a2b3c4d_••••••••");
    }
}

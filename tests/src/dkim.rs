//! DKIM in the tests: keys made by OpenSSL, and signatures checked by dkimpy (Debian's
//! `python3-dkim`), an implementation other than the one that signs, against the public key
//! given through its DNS hook instead of a DNS server.
use std::{io::Write, path::Path, process::Stdio};

use base64::{engine::general_purpose::STANDARD, Engine};

/// An RSA key pair: the private key as notify-service takes it, the public one as DNS
/// publishes it.
pub struct DkimKey {
    /// PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`).
    pub private_pem: String,
    /// The TXT record at `<selector>._domainkey.<domain>`: `v=DKIM1; k=rsa; p=…`.
    pub dns_record: String,
}

fn openssl(args: &[&str], dir: &Path) -> Vec<u8> {
    let output = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs (apt-get install openssl)");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// A new 2048-bit RSA key, as an operator makes one (`openssl genrsa -traditional`).
pub fn rsa_key() -> DkimKey {
    let dir = tempfile::tempdir().expect("temp dir");
    openssl(
        &["genrsa", "-traditional", "-out", "key.pem", "2048"],
        dir.path(),
    );
    let public = openssl(
        &["rsa", "-in", "key.pem", "-pubout", "-outform", "DER"],
        dir.path(),
    );
    DkimKey {
        private_pem: std::fs::read_to_string(dir.path().join("key.pem")).expect("the key"),
        dns_record: format!("v=DKIM1; k=rsa; p={}", STANDARD.encode(public)),
    }
}

const VERIFY: &str = r#"
import logging, sys
import dkim
selector, domain, record = sys.argv[1:4]
wanted = f"{selector}._domainkey.{domain}".lower()
asked = []
def txt(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    asked.append(name)
    return record.encode() if name.rstrip(".").lower() == wanted else None
logging.basicConfig(stream=sys.stderr, level=logging.DEBUG)
message = sys.stdin.buffer.read()
ok = dkim.verify(message, logger=logging.getLogger("dkim"), dnsfunc=txt)
print("verified" if ok else f"not verified (asked DNS for {asked})")
sys.exit(0 if ok else 1)
"#;

/// Checks the message's DKIM signature with dkimpy, the key published at
/// `<selector>._domainkey.<domain>` being `record`. Err: why not, as dkimpy says it.
pub fn verify(message: &[u8], selector: &str, domain: &str, record: &str) -> Result<(), String> {
    // Debian's Python, where its python3-dkim is installed.
    let mut child = std::process::Command::new("/usr/bin/python3")
        .args(["-c", VERIFY, selector, domain, record])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("/usr/bin/python3 runs (apt-get install python3 python3-dkim)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(message)
        .expect("write the message");
    let output = child.wait_with_output().expect("dkimpy ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named 'dkim'"),
        "dkimpy is missing: apt-get install python3-dkim"
    );
    match output.status.success() {
        true => Ok(()),
        false => Err(format!(
            "{}{stderr}",
            String::from_utf8_lossy(&output.stdout)
        )),
    }
}

/// The header names a DKIM-Signature covers (its `h=` tag), lowercase.
pub fn signed_headers(signature: &str) -> Vec<String> {
    signature
        .split(';')
        .filter_map(|tag| tag.trim().strip_prefix("h="))
        .flat_map(|names| names.split(':'))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect()
}

/// A tag's value in a DKIM-Signature (`d`, `s`, `a`, …).
pub fn tag(signature: &str, name: &str) -> Option<String> {
    signature.split(';').find_map(|tag| {
        let (key, value) = tag.split_once('=')?;
        (key.trim() == name).then(|| value.split_whitespace().collect())
    })
}

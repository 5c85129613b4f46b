//! Scrapes a service's `/metrics` and reads the text with the Prometheus project's own Python
//! parser (`prometheus_client`, Debian's `python3-prometheus-client`), so what a Prometheus
//! server would read is what the tests check.
use std::{net::SocketAddr, process::Stdio};

use tokio::io::AsyncWriteExt;

/// The parser, as a Python program: OpenMetrics text on stdin, JSON samples on stdout.
const PARSE: &str = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
samples = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        samples.append({"family": family.name, "type": family.type, "name": s.name,
                        "labels": s.labels, "value": s.value})
print(json.dumps(samples))
"#;

#[derive(Clone, Debug, serde::Deserialize)]
pub struct Sample {
    pub family: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub labels: std::collections::BTreeMap<String, String>,
    pub value: f64,
}

/// Every sample `GET http://addr/metrics` answers, as the parser read them.
pub async fn scrape(addr: SocketAddr) -> Vec<Sample> {
    let response = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("the metrics listener answers");
    assert_eq!(response.status(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = response.text().await.expect("the text");
    // Debian's Python, where its python3-prometheus-client is installed (another `python3`,
    // e.g. pyenv's, may come first on the PATH).
    let mut parser = tokio::process::Command::new("/usr/bin/python3")
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("/usr/bin/python3 runs (apt-get install python3 python3-prometheus-client)");
    let mut stdin = parser.stdin.take().expect("stdin");
    stdin.write_all(text.as_bytes()).await.expect("write");
    drop(stdin);
    let output = parser.wait_with_output().await.expect("the parser ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named 'prometheus_client'"),
        "the Prometheus parser is missing: apt-get install python3-prometheus-client \
         (scripts/test installs it)"
    );
    assert!(
        output.status.success(),
        "the parser refused the text: {stderr}\n{text}"
    );
    serde_json::from_slice(&output.stdout).expect("the parser's JSON")
}

/// The value of the sample named `name` whose labels include `labels`.
pub fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
}

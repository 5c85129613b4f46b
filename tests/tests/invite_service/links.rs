//! The candidate's link pages: what counts as an open (a person's browser showing the page,
//! never a link scanner or a chat preview), dead links, and the pages' headers.
use base64::{engine::general_purpose::STANDARD, Engine};
use beckon_proto::invite::v1::*;
use beckon_tests::{on_both_databases, Backend, TestApp};
use reqwest::{header::HeaderMap, Method};
use sha2::{Digest, Sha256};

on_both_databases!(
    the_link_page_shows_the_job_and_candidate,
    fetching_the_page_counts_no_open_whoever_fetches_it,
    the_page_beacon_counts_each_open_with_its_browser_family,
    start_counts_the_open_when_no_beacon_came,
    unknown_revoked_and_expired_links_look_exactly_the_same,
    a_beacon_or_start_is_the_first_to_find_a_link_past_its_time,
    a_submitted_invite_is_shown_and_its_opens_count_nothing,
    link_pages_leak_nothing_through_referrer_or_cache,
    every_candidate_page_carries_a_strict_content_security_policy,
);

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

/// What mail scanners and chat unfurlers send when they fetch a link before the person does.
const LINK_PREVIEWS: &[&str] = &[
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Slack-ImgProxy (+https://api.slack.com/robots)",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.0.0 Safari/537.36 MicrosoftPreview/2.0 +https://aka.ms/MicrosoftPreview",
    "WhatsApp/2.23.20.0 A",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "TelegramBot (like TwitterBot)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) BingPreview/1.0b",
    "Mozilla/5.0 (compatible; Mimecast URL Protect)",
    "Proofpoint URL Defense",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
];

async fn request(app: &TestApp, method: Method, url: &str, user_agent: &str) -> reqwest::Response {
    let mut request = app.http.request(method, url);
    if !user_agent.is_empty() {
        request = request.header("user-agent", user_agent);
    }
    request.send().await.expect("request")
}

/// What the page's script sends once the browser shows the page.
async fn beacon(app: &TestApp, link: &str, user_agent: &str) -> reqwest::Response {
    request(app, Method::POST, &format!("{link}/opened"), user_agent).await
}

async fn get_invite(app: &TestApp, id: &str) -> Invite {
    app.invites()
        .get_invite(GetInviteRequest { id: id.into() })
        .await
        .expect("get")
        .into_inner()
}

/// The invite's `opened` events: (actor, detail), oldest first.
async fn opens(app: &TestApp, id: &str) -> Vec<(String, String)> {
    app.invites()
        .list_invite_events(ListInviteEventsRequest {
            invite_id: id.into(),
            ..Default::default()
        })
        .await
        .expect("events")
        .into_inner()
        .events
        .into_iter()
        .filter(|e| e.kind == "opened")
        .map(|e| (e.actor, e.detail))
        .collect()
}

async fn the_link_page_shows_the_job_and_candidate(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Site <Reliability> Engineer").await;
    let created = app.create_invite_for(&job.id).await;
    let page = app.get(&created.link_url).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("body");
    assert!(
        html.contains("Site &lt;Reliability&gt; Engineer"),
        "escaped title: {html}"
    );
    assert!(html.contains("Ada Lovelace"));
    assert!(html.contains(">Start<"));
}

async fn fetching_the_page_counts_no_open_whoever_fetches_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.create_invite().await;
    let id = created.invite.expect("invite").id;
    let reference = request(&app, Method::GET, &created.link_url, CHROME).await;
    assert_eq!(reference.status(), 200);
    let reference_headers = reference.headers().clone();
    let reference_body = reference.text().await.expect("body");
    for user_agent in [CHROME, FIREFOX, SAFARI, ""].iter().chain(LINK_PREVIEWS) {
        let page = request(&app, Method::GET, &created.link_url, user_agent).await;
        assert_eq!(page.status(), 200, "{user_agent}");
        assert_eq!(
            page.text().await.expect("body"),
            reference_body,
            "the same page for {user_agent:?}"
        );
        let head = request(&app, Method::HEAD, &created.link_url, user_agent).await;
        assert_eq!(head.status(), 200, "{user_agent}");
        assert_same_page_headers(head.headers(), &reference_headers);
        assert!(
            head.bytes().await.expect("body").is_empty(),
            "HEAD has no body"
        );
    }
    let invite = get_invite(&app, &id).await;
    assert_eq!(invite.status, InviteStatus::Sent as i32);
    assert_eq!(invite.open_count, 0);
    assert!(invite.first_open_time.is_none());
    assert_eq!(app.event_kinds(&id).await, ["created"]);
}

fn assert_same_page_headers(headers: &HeaderMap, reference: &HeaderMap) {
    for name in [
        "content-type",
        "content-security-policy",
        "referrer-policy",
        "cache-control",
        "x-content-type-options",
        "x-frame-options",
    ] {
        assert_eq!(headers.get(name), reference.get(name), "{name}");
    }
}

async fn the_page_beacon_counts_each_open_with_its_browser_family(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.create_invite().await;
    let id = created.invite.expect("invite").id;
    // Link previews that run the page's script are still not people.
    for user_agent in LINK_PREVIEWS {
        assert_eq!(
            beacon(&app, &created.link_url, user_agent).await.status(),
            204
        );
    }
    assert_eq!(get_invite(&app, &id).await.open_count, 0);

    assert_eq!(beacon(&app, &created.link_url, CHROME).await.status(), 204);
    let first = get_invite(&app, &id).await;
    assert_eq!(first.status, InviteStatus::Opened as i32);
    assert_eq!(first.open_count, 1);
    let first_open_time = first.first_open_time.expect("first-opened time");
    for user_agent in [CHROME, FIREFOX, ""] {
        assert_eq!(
            beacon(&app, &created.link_url, user_agent).await.status(),
            204
        );
    }
    let later = get_invite(&app, &id).await;
    assert_eq!(later.open_count, 4);
    assert_eq!(later.status, InviteStatus::Opened as i32);
    assert_eq!(later.first_open_time, Some(first_open_time), "kept");
    let candidate = |detail: &str| ("candidate".to_string(), detail.to_string());
    assert_eq!(
        opens(&app, &id).await,
        [
            candidate("first open; browser: Chrome"),
            candidate("browser: Chrome"),
            candidate("browser: Firefox"),
            candidate("browser: other"),
        ]
    );
    // Starting afterwards counts no second open.
    assert_eq!(
        request(
            &app,
            Method::POST,
            &format!("{}/start", created.link_url),
            SAFARI
        )
        .await
        .status(),
        303
    );
    assert_eq!(get_invite(&app, &id).await.open_count, 4);
    assert_eq!(
        app.event_kinds(&id).await,
        ["created", "opened", "opened", "opened", "opened", "started"]
    );
}

async fn start_counts_the_open_when_no_beacon_came(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.create_invite().await;
    let id = created.invite.expect("invite").id;
    // A browser without scripts: the page is fetched, no beacon comes, then Start.
    request(&app, Method::GET, &created.link_url, FIREFOX).await;
    let start = format!("{}/start", created.link_url);
    assert_eq!(
        request(&app, Method::POST, &start, FIREFOX).await.status(),
        303
    );
    let started = get_invite(&app, &id).await;
    assert_eq!(started.status, InviteStatus::Started as i32);
    assert_eq!(started.open_count, 1);
    assert!(started.first_open_time.is_some());
    assert_eq!(app.event_kinds(&id).await, ["created", "opened", "started"]);
    assert_eq!(
        opens(&app, &id).await,
        [(
            "candidate".to_string(),
            "first open, at Start; browser: Firefox".to_string()
        )]
    );
    // Continue, later: the open was counted already.
    assert_eq!(
        request(&app, Method::POST, &start, FIREFOX).await.status(),
        303
    );
    assert_eq!(get_invite(&app, &id).await.open_count, 1);
}

async fn unknown_revoked_and_expired_links_look_exactly_the_same(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let revoked = app.create_invite().await;
    app.invites()
        .revoke_invite(RevokeInviteRequest {
            id: revoked.invite.as_ref().expect("invite").id.clone(),
            reason: String::new(),
        })
        .await
        .expect("revoke");
    let expired = app.create_invite().await;
    let expired_id = expired.invite.as_ref().expect("invite").id.clone();
    // Time cannot be hurried through the API: move the expiry into the past directly.
    app.backdate_expiry(&expired_id).await;

    let unknown = format!("{}/i/{}", app.base_url, "A".repeat(43));
    let malformed = format!("{}/i/{}", app.base_url, "nope");
    let mut answers = Vec::new();
    for url in [
        unknown,
        malformed,
        revoked.link_url.clone(),
        expired.link_url.clone(),
    ] {
        // The page, its beacon from a browser and from a link preview, and Start: a dead link
        // answers each of them exactly alike.
        let beacon_url = format!("{url}/opened");
        let start_url = format!("{url}/start");
        for (method, url, user_agent) in [
            (Method::GET, &url, CHROME),
            (Method::POST, &beacon_url, CHROME),
            (Method::POST, &beacon_url, LINK_PREVIEWS[0]),
            (Method::POST, &start_url, CHROME),
            (Method::POST, &start_url, ""),
        ] {
            let response = request(&app, method, url, user_agent).await;
            let status = response.status();
            let content_type = response.headers()["content-type"].clone();
            let policy = response.headers()["content-security-policy"].clone();
            let body = response.bytes().await.expect("body");
            answers.push((status, content_type, policy, body));
        }
        let head = request(&app, Method::HEAD, &url, CHROME).await;
        assert_eq!(head.status(), 404);
        assert_eq!(
            head.headers()["content-security-policy"],
            answers[0].2,
            "{url}"
        );
        assert!(head.bytes().await.expect("body").is_empty());
    }
    // Each request alike for every dead link; the page (with its form asking for a new link)
    // apart from the posts, which all get the plain 404 page.
    const KINDS: usize = 5;
    assert_eq!(answers[0].0, 404);
    for (i, answer) in answers.iter().enumerate() {
        assert_eq!(answer, &answers[i % KINDS], "byte for byte the same");
    }
    let page = String::from_utf8_lossy(&answers[0].3);
    assert!(page.contains("Send me a new link"), "{page}");
    for answer in &answers[2..KINDS] {
        assert_eq!(answer, &answers[1]);
    }
    assert!(!String::from_utf8_lossy(&answers[1].3).contains("<form"));
    let invite = app
        .invites()
        .get_invite(GetInviteRequest { id: expired_id })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(
        invite.status,
        InviteStatus::Expired as i32,
        "expired on access"
    );
}

async fn a_beacon_or_start_is_the_first_to_find_a_link_past_its_time(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let dead_page = request(
        &app,
        Method::POST,
        &format!("{}/i/{}/opened", app.base_url, "A".repeat(43)),
        CHROME,
    )
    .await;
    let dead_page = (dead_page.status(), dead_page.bytes().await.expect("body"));
    for path in ["opened", "start"] {
        let created = app.create_invite().await;
        let id = created.invite.expect("invite").id;
        app.backdate_expiry(&id).await;
        // Nothing looked at the link since its time passed: the post finds it and expires it.
        let response = request(
            &app,
            Method::POST,
            &format!("{}/{path}", created.link_url),
            CHROME,
        )
        .await;
        let answer = (response.status(), response.bytes().await.expect("body"));
        assert_eq!(answer, dead_page, "{path}: answered like any dead link");
        let invite = get_invite(&app, &id).await;
        assert_eq!(invite.status, InviteStatus::Expired as i32, "{path}");
        assert_eq!(invite.open_count, 0, "{path}");
        assert!(opens(&app, &id).await.is_empty(), "{path}");
    }
}

async fn a_submitted_invite_is_shown_and_its_opens_count_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.create_invite().await;
    let id = created.invite.expect("invite").id;
    assert_eq!(beacon(&app, &created.link_url, CHROME).await.status(), 204);
    let start = format!("{}/start", created.link_url);
    assert_eq!(
        request(&app, Method::POST, &start, CHROME).await.status(),
        303
    );
    app.invites()
        .complete_invite(CompleteInviteRequest { id: id.clone() })
        .await
        .expect("complete");
    // The page still shows (saying the work is in); the beacon answers as for any live link.
    assert_eq!(
        request(&app, Method::GET, &created.link_url, CHROME)
            .await
            .status(),
        200
    );
    assert_eq!(beacon(&app, &created.link_url, FIREFOX).await.status(), 204);
    let invite = get_invite(&app, &id).await;
    assert_eq!(invite.status, InviteStatus::Submitted as i32);
    assert_eq!(invite.open_count, 1, "only the open before submitting");
    assert_eq!(opens(&app, &id).await.len(), 1);
}

async fn link_pages_leak_nothing_through_referrer_or_cache(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.create_invite().await;
    for response in [
        app.get(&created.link_url).await,
        app.get(&format!("{}/i/unknown", app.base_url)).await,
        app.post(&format!("{}/start", created.link_url)).await,
    ] {
        assert_eq!(response.headers()["referrer-policy"], "no-referrer");
        assert_eq!(response.headers()["cache-control"], "no-store");
    }
}

/// The texts of the page's `<tag …>…</tag>` elements.
fn element_texts<'a>(html: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    let mut texts = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(&open) {
        let after_open = &rest[at..];
        let start = after_open.find('>').expect("tag closes") + 1;
        let end = after_open.find(&close).expect("element closes");
        texts.push(&after_open[start..end]);
        rest = &after_open[end..];
    }
    texts
}

/// The CSP source that allows an inline element with exactly this text.
fn hash_source(text: &str) -> String {
    format!(
        "'sha256-{}'",
        STANDARD.encode(Sha256::digest(text.as_bytes()))
    )
}

/// Checks the page's headers, and that its one inline style (and, if `script`, its one inline
/// script) is what the policy allows by hash; returns the policy with the hashes written as
/// STYLE and SCRIPT.
async fn page_policy(response: reqwest::Response, script: bool) -> (u16, String) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    let policy = headers["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_string();
    let html = response.text().await.expect("body");
    let styles = element_texts(&html, "style");
    assert_eq!(styles.len(), 1, "{html}");
    let mut policy = policy.replace(&hash_source(styles[0]), "STYLE");
    let scripts = element_texts(&html, "script");
    if script {
        assert_eq!(scripts.len(), 1, "{html}");
        policy = policy.replace(&hash_source(scripts[0]), "SCRIPT");
    } else {
        assert!(scripts.is_empty(), "{html}");
    }
    // Nothing the hashes could not cover.
    for attribute in [
        " style=",
        " onload=",
        " onclick=",
        " onsubmit=",
        "javascript:",
    ] {
        assert!(!html.contains(attribute), "{attribute} in {html}");
    }
    (status, policy)
}

async fn every_candidate_page_carries_a_strict_content_security_policy(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.public_rate_per_address = "1/hour burst 1".parse().expect("rate");
    })
    .await;
    const INVITE: &str = "default-src 'none'; script-src SCRIPT; connect-src 'self'; style-src STYLE; form-action 'self' https://assess.example.com; base-uri 'none'; frame-ancestors 'none'";
    const REGISTRATION: &str = "default-src 'none'; style-src STYLE; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
    const DOCUMENT: &str = "default-src 'none'; style-src STYLE; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

    let created = app.create_invite().await;
    let page = app.get(&created.link_url).await;
    assert_eq!(page_policy(page, true).await, (200, INVITE.to_string()));
    // A dead link's page: its form (a new link for an expired one) posts to the link.
    let unknown = app.get(&format!("{}/i/unknown", app.base_url)).await;
    assert_eq!(
        page_policy(unknown, false).await,
        (404, REGISTRATION.to_string())
    );

    let job = app.create_job("Locked").await;
    let locked = app
        .invites()
        .create_invite(CreateInviteRequest {
            job_id: job.id.clone(),
            candidate_name: "Katherine Johnson".into(),
            locked: true,
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner();
    let page = app.get(&locked.link_url).await;
    assert_eq!(page_policy(page, true).await, (200, INVITE.to_string()));
    let refused = app.post(&format!("{}/start", locked.link_url)).await;
    assert_eq!(
        page_policy(refused, false).await,
        (409, DOCUMENT.to_string())
    );

    let public_url = app
        .jobs()
        .set_job_public_link(SetJobPublicLinkRequest {
            job_id: job.id.clone(),
            enabled: true,
        })
        .await
        .expect("public link")
        .into_inner()
        .public_url;
    let register = |name: &'static str, email: &'static str| {
        app.http
            .post(&public_url)
            .form(&[("name", name), ("email", email)])
            .send()
    };
    let form = app.get(&public_url).await;
    assert_eq!(
        page_policy(form, false).await,
        (200, REGISTRATION.to_string())
    );
    let missing = register("", "").await.expect("POST");
    assert_eq!(
        page_policy(missing, false).await,
        (422, REGISTRATION.to_string())
    );
    let sent = register("Ada", "ada@example.com").await.expect("POST");
    assert_eq!(page_policy(sent, false).await, (200, DOCUMENT.to_string()));
    let wait = register("Grace", "grace@example.com").await.expect("POST");
    assert_eq!(page_policy(wait, false).await, (429, DOCUMENT.to_string()));
    app.jobs()
        .update_job(UpdateJobRequest {
            job: Some(Job {
                id: job.id.clone(),
                state: JobState::Closed as i32,
                ..Default::default()
            }),
            update_mask: None,
        })
        .await
        .expect("close");
    let closed = app.get(&public_url).await;
    assert_eq!(
        page_policy(closed, false).await,
        (200, DOCUMENT.to_string())
    );

    // Answers that are not pages get the strictest policy too.
    for response in [
        beacon(&app, &created.link_url, CHROME).await,
        app.http.put(&created.link_url).send().await.expect("PUT"),
    ] {
        let policy = response.headers()["content-security-policy"]
            .to_str()
            .expect("ascii")
            .to_string();
        assert!(
            policy.starts_with("default-src 'none'; style-src 'sha256-"),
            "{policy}"
        );
        assert!(policy.ends_with("; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"));
    }
}

//! A real SMTP server on loopback for tests: it accepts mail, or answers chosen recipients with
//! chosen reply codes (e.g. 451 three times, then 250; or 550 always), or holds their answer
//! until told (a message stays in flight; its sender can be killed mid-send), and records every
//! message it accepted.
use std::{
    collections::{HashMap, HashSet, VecDeque},
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    sync::Notify,
};

/// A message the server accepted.
#[derive(Clone, Debug)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent, headers and body, dot-unstuffed.
    pub data: String,
    /// When the server accepted it (the end of DATA).
    pub at: std::time::Instant,
}

impl ReceivedMail {
    /// The value of a header (unfolded), if present.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(current) = value.as_mut() {
                if line.starts_with(' ') || line.starts_with('\t') {
                    current.push_str(line.trim_start());
                    continue;
                }
                break;
            }
            if let Some((key, rest)) = line.split_once(':') {
                if key.eq_ignore_ascii_case(name) {
                    value = Some(rest.trim().to_string());
                }
            }
        }
        value
    }

    /// The message with quoted-printable's soft line breaks taken out: long lines whole again.
    pub fn unfolded(&self) -> String {
        self.data.replace("=\r\n", "")
    }

    /// The subject and the text and HTML bodies, decoded as a mail client shows them.
    pub fn decoded(&self) -> Decoded {
        let message = mail_parser::MessageParser::default().parse(self.data.as_bytes());
        let part = |text: Option<std::borrow::Cow<'_, str>>| {
            text.map(|t| t.into_owned()).unwrap_or_default()
        };
        Decoded {
            subject: message
                .as_ref()
                .and_then(|m| m.subject())
                .unwrap_or_default()
                .to_string(),
            text: part(message.as_ref().and_then(|m| m.body_text(0))),
            html: part(message.as_ref().and_then(|m| m.body_html(0))),
        }
    }

    /// The first http(s) link after `prefix` in the message (e.g. the invite link).
    pub fn link_starting(&self, prefix: &str) -> Option<String> {
        let unfolded = self.unfolded();
        let start = unfolded.find(prefix)?;
        let link: String = unfolded[start..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<')
            .collect();
        Some(link)
    }
}

/// A message as its reader sees it.
#[derive(Clone, Debug, Default)]
pub struct Decoded {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Default)]
struct State {
    received: Vec<ReceivedMail>,
    /// Reply codes to give RCPT TO for an address, one per attempt; then 250.
    scripts: HashMap<String, VecDeque<u16>>,
    /// Reply codes given for an address for good.
    always: HashMap<String, u16>,
    /// How many RCPT TO each address got, accepted or not.
    attempts: HashMap<String, u32>,
    /// Addresses whose RCPT TO gets no answer until they are released.
    held: HashSet<String>,
    /// How long every RCPT TO reply takes.
    reply_delay: Duration,
    /// Every connection is greeted with 421 and closed, as a server that is down would.
    refusing: bool,
    /// Connections refused that way.
    refused: u32,
}

#[derive(Clone)]
pub struct SmtpServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    arrived: Arc<Notify>,
    attempted: Arc<Notify>,
    released: Arc<Notify>,
}

impl SmtpServer {
    /// Binds 127.0.0.1:0 and serves until the test's runtime ends.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind SMTP");
        let server = Self {
            addr: listener.local_addr().expect("addr"),
            state: Arc::default(),
            arrived: Arc::new(Notify::new()),
            attempted: Arc::new(Notify::new()),
            released: Arc::new(Notify::new()),
        };
        let serving = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let connection = serving.clone();
                tokio::spawn(async move {
                    let _ = connection.serve(stream).await;
                });
            }
        });
        server
    }

    /// Answers RCPT TO for `address` with these codes, one per attempt, then accepts.
    pub fn script(&self, address: &str, codes: &[u16]) {
        self.lock()
            .scripts
            .insert(address.to_lowercase(), codes.iter().copied().collect());
    }

    /// Answers RCPT TO for `address` with `code`, always.
    pub fn always(&self, address: &str, code: u16) {
        self.lock().always.insert(address.to_lowercase(), code);
    }

    /// Leaves RCPT TO for `address` unanswered until `release`: its message stays in flight,
    /// and its sender hangs mid-send until then, or until it gives up or dies.
    pub fn hold(&self, address: &str) {
        self.lock().held.insert(address.to_lowercase());
    }

    /// Answers the held RCPT TO for `address` (by `script` and `always`, else 250), and every
    /// later one.
    pub fn release(&self, address: &str) {
        self.lock().held.remove(&address.to_lowercase());
        self.released.notify_waiters();
    }

    /// Makes every RCPT TO reply take `delay`: slow sends.
    pub fn delay_replies(&self, delay: Duration) {
        self.lock().reply_delay = delay;
    }

    /// Waits until a RCPT TO for `address` has arrived, or `within` runs out; true if it did.
    pub async fn wait_for_attempt(&self, address: &str, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let notified = self.attempted.notified();
            if self.attempts(address) > 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.attempts(address) > 0;
            }
        }
    }

    /// Refuses every connection (421, then closes it) until called with `false`.
    pub fn refuse_connections(&self, refusing: bool) {
        self.lock().refusing = refusing;
    }

    /// How many connections were refused so far.
    pub fn refused(&self) -> u32 {
        self.lock().refused
    }

    pub fn received(&self) -> Vec<ReceivedMail> {
        self.lock().received.clone()
    }

    pub fn attempts(&self, address: &str) -> u32 {
        self.lock()
            .attempts
            .get(&address.to_lowercase())
            .copied()
            .unwrap_or(0)
    }

    /// Waits until `done` holds for the received mail, or `within` runs out.
    pub async fn wait_for(
        &self,
        within: std::time::Duration,
        done: impl Fn(&[ReceivedMail]) -> bool,
    ) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let notified = self.arrived.notified();
            let received = self.received();
            if done(&received) {
                return received;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.received();
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn refuse_if_refusing(&self) -> bool {
        let mut state = self.lock();
        if state.refusing {
            state.refused += 1;
        }
        state.refusing
    }

    /// Counts a RCPT TO for `address`; returns how long its reply takes.
    fn record_attempt(&self, address: &str) -> Duration {
        let mut state = self.lock();
        *state.attempts.entry(address.to_string()).or_default() += 1;
        self.attempted.notify_waiters();
        state.reply_delay
    }

    /// Waits while `address` is held; false if the client went away meanwhile.
    async fn wait_while_held(
        &self,
        address: &str,
        lines: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    ) -> std::io::Result<bool> {
        let mut ignored = String::new();
        loop {
            // Made before the check, so a release in between still wakes it.
            let released = self.released.notified();
            if !self.lock().held.contains(address) {
                return Ok(true);
            }
            tokio::select! {
                () = released => {}
                read = lines.read_line(&mut ignored) => {
                    if read? == 0 {
                        return Ok(false);
                    }
                }
            }
        }
    }

    fn rcpt_reply(&self, address: &str) -> u16 {
        let mut state = self.lock();
        if let Some(code) = state.always.get(address) {
            return *code;
        }
        state
            .scripts
            .get_mut(address)
            .and_then(VecDeque::pop_front)
            .unwrap_or(250)
    }

    async fn serve(self, stream: TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        if self.refuse_if_refusing() {
            write
                .write_all(b"421 4.3.2 beckon-test is not taking mail\r\n")
                .await?;
            return write.shutdown().await;
        }
        let mut lines = BufReader::new(read);
        write.write_all(b"220 beckon-test ESMTP\r\n").await?;
        let (mut from, mut to) = (String::new(), Vec::new());
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_string();
            let upper = command.to_ascii_uppercase();
            let reply: String = if upper.starts_with("EHLO") {
                "250-beckon-test\r\n250-8BITMIME\r\n250 SMTPUTF8".into()
            } else if upper.starts_with("HELO") {
                "250 beckon-test".into()
            } else if upper.starts_with("MAIL FROM:") {
                from = address_in(&command);
                to.clear();
                "250 OK".into()
            } else if upper.starts_with("RCPT TO:") {
                let address = address_in(&command);
                let delay = self.record_attempt(&address);
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                if !self.wait_while_held(&address, &mut lines).await? {
                    return Ok(());
                }
                match self.rcpt_reply(&address) {
                    250 => {
                        to.push(address);
                        "250 OK".into()
                    }
                    code if code >= 500 => format!("{code} 5.1.1 <{address}>: mailbox unavailable"),
                    code => format!("{code} 4.7.1 <{address}>: try again later"),
                }
            } else if upper == "DATA" {
                if to.is_empty() {
                    "554 no valid recipients".into()
                } else {
                    write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                    let mut data = String::new();
                    loop {
                        line.clear();
                        if lines.read_line(&mut line).await? == 0 {
                            return Ok(());
                        }
                        if line == ".\r\n" {
                            break;
                        }
                        data.push_str(line.strip_prefix('.').unwrap_or(&line));
                    }
                    self.lock().received.push(ReceivedMail {
                        from: from.clone(),
                        to: std::mem::take(&mut to),
                        data,
                        at: std::time::Instant::now(),
                    });
                    self.arrived.notify_waiters();
                    "250 OK queued".into()
                }
            } else if upper == "RSET" {
                to.clear();
                "250 OK".into()
            } else if upper == "NOOP" {
                "250 OK".into()
            } else if upper == "QUIT" {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else {
                "502 command not implemented".into()
            };
            write.write_all(format!("{reply}\r\n").as_bytes()).await?;
        }
    }
}

/// A `wait_for` condition: some message went to `address`.
pub fn to(address: &str) -> impl Fn(&[ReceivedMail]) -> bool + '_ {
    move |mail| mail.iter().any(|m| m.to.iter().any(|t| t == address))
}

fn address_in(command: &str) -> String {
    let start = command.find('<').map_or(0, |i| i + 1);
    let end = command[start..]
        .find('>')
        .map_or(command.len(), |i| start + i);
    command[start..end].trim().to_lowercase()
}

//! Calendar invitations in the tests: every text/calendar part and .ics attachment of a message,
//! parsed by Python's `icalendar` (Debian's `python3-icalendar`), an implementation other than
//! the one that writes them.
use std::{io::Write, process::Stdio};

use serde::Deserialize;

/// One calendar object of a message, as `icalendar` read it.
#[derive(Clone, Debug, Deserialize)]
pub struct CalendarPart {
    /// The MIME type of the part it came in (with its `method` parameter, for text/calendar).
    pub content_type: String,
    pub method: String,
    pub events: Vec<CalendarEvent>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct CalendarEvent {
    pub uid: String,
    pub sequence: i64,
    /// ISO 8601, in UTC (`…+00:00`).
    pub start: String,
    pub end: String,
    pub organizer: String,
    pub attendees: Vec<CalendarAttendee>,
    pub location: String,
    pub url: String,
    pub description: String,
    pub status: String,
    pub summary: String,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct CalendarAttendee {
    pub address: String,
    pub rsvp: String,
    pub partstat: String,
    pub role: String,
}

const READ: &str = r#"
import email, json, sys
from email import policy
import icalendar
message = email.message_from_bytes(sys.stdin.buffer.read(), policy=policy.default)
parts = []
for part in message.walk():
    kind = part.get_content_type()
    name = part.get_filename() or ""
    if kind != "text/calendar" and not name.endswith(".ics"):
        continue
    calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    events = []
    for event in calendar.walk("VEVENT"):
        def text(key):
            value = event.get(key)
            return "" if value is None else str(value)
        def when(key):
            return event.decoded(key).isoformat()
        attendees = event.get("ATTENDEE")
        if attendees is None:
            attendees = []
        elif not isinstance(attendees, list):
            attendees = [attendees]
        events.append({
            "uid": text("UID"),
            "sequence": int(event.get("SEQUENCE", 0)),
            "start": when("DTSTART"),
            "end": when("DTEND"),
            "organizer": text("ORGANIZER"),
            "attendees": [{
                "address": str(a),
                "rsvp": str(a.params.get("RSVP", "")),
                "partstat": str(a.params.get("PARTSTAT", "")),
                "role": str(a.params.get("ROLE", "")),
            } for a in attendees],
            "location": text("LOCATION"),
            "url": text("URL"),
            "description": text("DESCRIPTION"),
            "status": text("STATUS"),
            "summary": text("SUMMARY"),
        })
    parts.append({
        "content_type": part.get("Content-Type", ""),
        "method": str(calendar.get("METHOD", "")),
        "events": events,
    })
print(json.dumps(parts))
"#;

/// Every calendar object in the message (as it arrived), read by `icalendar`; a part it cannot
/// parse fails the test with its reason.
pub fn calendars(message: &str) -> Vec<CalendarPart> {
    // Debian's Python, where its python3-icalendar is installed.
    let mut child = std::process::Command::new("/usr/bin/python3")
        .args(["-c", READ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("/usr/bin/python3 runs (apt-get install python3 python3-icalendar)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(message.as_bytes())
        .expect("write the message");
    let output = child.wait_with_output().expect("icalendar ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named 'icalendar'"),
        "Python's icalendar is missing: apt-get install python3-icalendar"
    );
    assert!(
        output.status.success(),
        "icalendar could not read it: {stderr}"
    );
    serde_json::from_slice(&output.stdout).expect("the parts as JSON")
}

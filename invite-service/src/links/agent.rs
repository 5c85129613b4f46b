//! Who fetched a link page, read from its `User-Agent`: a link preview (a mail scanner or a chat
//! unfurler, which never counts as an open) or a browser, named by family for the audit trail.
//!
//! A small table rather than a user-agent parsing crate: the preview agents have to be our own
//! list whatever the parser (none of them knows Slack-ImgProxy or Mimecast), and a browser family
//! is a handful of substring rules; a full parser (`woothee`, `uaparser` and its regex file) would
//! be a dependency for one word in an audit entry.
//!
//! Opens are counted from a beacon that the page's script sends once the page is shown, so the
//! agents that matter here are the ones that run scripts; the list still names the well-known
//! fetchers, so none of them counts even if it ever runs one. Generic HTTP clients (curl, Wget,
//! python-requests) are not on it: they fetch only what they are told to, and a page fetch never
//! counts anyway.

/// Substrings (matched without regard to case) that mark a link preview, with the name logged
/// for it. Sources: each vendor's documented crawler user agent.
const PREVIEW_AGENTS: &[(&str, &str)] = &[
    // Chat unfurlers. iMessage says "… facebookexternalhit/1.1 Facebot Twitterbot/1.0".
    ("facebot twitterbot", "iMessage"),
    ("telegrambot", "Telegram"), // "TelegramBot (like TwitterBot)"
    ("slackbot", "Slack"),       // Slackbot-LinkExpanding 1.0
    ("slack-imgproxy", "Slack"), // Slack's image proxy
    ("twitterbot", "X (Twitter)"),
    ("facebookexternalhit", "Meta"), // Facebook and Messenger previews
    ("facebot", "Meta"),             // Facebook's crawler
    ("linkedinbot", "LinkedIn"),     // LinkedInBot/1.0
    ("whatsapp/", "WhatsApp"),       // WhatsApp/2.x
    ("discordbot", "Discord"),       // Discordbot/2.0
    ("skypeuripreview", "Microsoft Teams"), // Teams and Skype: SkypeUriPreview Preview/0.5
    ("microsoftpreview", "Microsoft Teams"), // Teams and Outlook: MicrosoftPreview/2.0
    ("google-pagerenderer", "Google"), // Google Chat and Docs previews
    ("redditbot", "Reddit"),
    ("embedly", "Embedly"),
    // Mail security scanners that say who they are (others pose as browsers; they do not run
    // the page's script or do not show the page, so they send no beacon).
    ("bingpreview", "Microsoft Safe Links"),
    ("mimecast", "Mimecast"),
    ("proofpoint", "Proofpoint"),
    ("barracuda", "Barracuda"),
    ("ms-office", "Microsoft Office"), // Office checks a link before opening the browser
    ("microsoft office", "Microsoft Office"),
    // Search crawlers, should one follow a link that leaked: the pages are noindex.
    ("googlebot", "Google"),
    ("bingbot", "Bing"),
    ("applebot", "Apple"),
    // Automated browsers: security sandboxes render links in headless Chrome.
    ("headlesschrome", "headless Chrome"),
];

/// Browser families, the first match wins: Edge, Opera and Samsung Internet also say "Chrome",
/// and Chrome also says "Safari".
const BROWSER_FAMILIES: &[(&str, &str)] = &[
    ("edg/", "Edge"),
    ("edga/", "Edge"),
    ("edgios/", "Edge"),
    ("opr/", "Opera"),
    ("samsungbrowser/", "Samsung Internet"),
    ("firefox/", "Firefox"),
    ("fxios/", "Firefox"),
    ("crios/", "Chrome"),
    ("chrome/", "Chrome"),
    ("chromium/", "Chrome"),
    ("safari/", "Safari"),
    ("msie ", "Internet Explorer"),
    ("trident/", "Internet Explorer"),
];

/// What fetched a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agent {
    /// A link preview or scanner, by name; never an open.
    Preview(&'static str),
    /// A browser, by family ("other" when unknown); its beacon is an open.
    Browser(&'static str),
}

impl Agent {
    pub fn from_user_agent(user_agent: &str) -> Self {
        let lower = user_agent.to_ascii_lowercase();
        let find = |table: &[(&str, &'static str)]| {
            table
                .iter()
                .find(|(needle, _)| lower.contains(needle))
                .map(|(_, name)| *name)
        };
        match find(PREVIEW_AGENTS) {
            Some(name) => Agent::Preview(name),
            None => Agent::Browser(find(BROWSER_FAMILIES).unwrap_or("other")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_are_named_by_family() {
        for (user_agent, family) in [
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge"),
            ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox"),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "Safari"),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", "Chrome"),
            ("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", "Samsung Internet"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0", "Opera"),
            ("curl/8.5.0", "other"),
            ("", "other"),
        ] {
            assert_eq!(Agent::from_user_agent(user_agent), Agent::Browser(family), "{user_agent}");
        }
    }

    #[test]
    fn link_previews_are_recognised() {
        for (user_agent, name) in [
            ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "Slack"),
            ("Slack-ImgProxy (+https://api.slack.com/robots)", "Slack"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0", "iMessage"),
            ("Twitterbot/1.0", "X (Twitter)"),
            ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "Meta"),
            ("LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)", "LinkedIn"),
            ("WhatsApp/2.23.20.0 A", "WhatsApp"),
            ("TelegramBot (like TwitterBot)", "Telegram"),
            ("Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", "Discord"),
            ("Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com", "Microsoft Teams"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.0.0 Safari/537.36 MicrosoftPreview/2.0 +https://aka.ms/MicrosoftPreview", "Microsoft Teams"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) BingPreview/1.0b", "Microsoft Safe Links"),
            ("Mozilla/5.0 (compatible; Mimecast URL Protect)", "Mimecast"),
            ("Proofpoint URL Defense", "Proofpoint"),
            ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Google"),
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", "headless Chrome"),
        ] {
            assert_eq!(Agent::from_user_agent(user_agent), Agent::Preview(name), "{user_agent}");
        }
    }
}

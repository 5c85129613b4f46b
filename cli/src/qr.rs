//! QR codes of links, for a candidate to scan from a screen or a printout: in the terminal with
//! Unicode half blocks (two modules per character cell, so the code stays square), or as SVG
//! or PNG files. The server never returns a link after it was made, so these take the URL
//! itself: from an argument, from standard input, or straight from `invites create --qr`.
use std::{
    fs,
    io::{self, IsTerminal, Read, Write},
    path::{Path, PathBuf},
};

use clap::Args;
use qrcode::{render::svg, Color, QrCode};
use serde_json::json;

use crate::{
    error::CliError,
    output::{print_json, Format},
};

/// Light modules around the code; 4 is what the QR standard asks for, and what readers expect.
const QUIET_ZONE: usize = 4;
/// PNG pixels per module: a 41-module code becomes 410 pixels, sharp when printed.
const PNG_MODULE_PX: usize = 10;
/// SVG user units per module; the image scales anyway.
const SVG_MIN_SIZE: u32 = 256;

#[derive(Args)]
pub struct QrArgs {
    /// The link (e.g. from `invites create`); when omitted or `-`, the first http(s) URL on
    /// standard input, so that `invites create` output can be piped in.
    #[arg(value_name = "URL")]
    link: Option<String>,
    /// Write a PNG image to FILE instead of printing the code.
    #[arg(long, value_name = "FILE")]
    png: Option<PathBuf>,
    /// Write an SVG image to FILE instead of printing the code.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
}

pub fn run(args: QrArgs, format: Format) -> anyhow::Result<()> {
    let url = match args.link.as_deref() {
        None | Some("-") => link_from_stdin()?,
        Some(arg) => checked_link(arg)?,
    };
    let code = encode(&url)?;
    if args.png.is_none() && args.svg.is_none() {
        return print(&url, &code, format);
    }
    if let Some(path) = &args.png {
        write_file(path, |out| write_png(&code, out))?;
    }
    if let Some(path) = &args.svg {
        write_file(path, |out| out.write_all(to_svg(&code).as_bytes()))?;
    }
    match format {
        Format::Json => print_json(&json!({
            "url": url,
            "png": args.png.as_ref().map(|p| p.display().to_string()),
            "svg": args.svg.as_ref().map(|p| p.display().to_string()),
        })),
        Format::Text => {
            let mut out = io::stdout().lock();
            for path in args.png.iter().chain(&args.svg) {
                writeln!(out, "wrote {}", path.display())?;
            }
            Ok(())
        }
    }
}

/// Prints `url`'s code to stdout: the text art alone in text, `{"url", "qr"}` in JSON.
pub fn print(url: &str, code: &QrCode, format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => print_json(&json!({ "url": url, "qr": to_text(code, false) })),
        Format::Text => {
            let mut out = io::stdout().lock();
            writeln!(out, "{}", to_text(code, colors_wanted()))?;
            Ok(())
        }
    }
}

/// The code of a link, or a clear error for one too long to encode.
pub fn encode(url: &str) -> anyhow::Result<QrCode> {
    QrCode::new(url.as_bytes())
        .map_err(|err| CliError::usage(format!("cannot make a QR code of the link: {err}")))
}

/// Black on white forced with ANSI colors when stdout is a terminal, so that the code scans
/// on dark and light terminal themes alike; NO_COLOR (no-color.org) turns that off.
fn colors_wanted() -> bool {
    io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The code as half-block text, dark modules drawn. With `ansi`, each line is drawn black on
/// white; without, it relies on dark text on a light background (as on paper or most pagers).
pub fn to_text(code: &QrCode, ansi: bool) -> String {
    let grid = Grid::new(code);
    let mut lines = Vec::new();
    for y in (0..grid.size).step_by(2) {
        let mut line = String::new();
        if ansi {
            // 256-colour black on white: exact colours, unlike the theme's "black" and "white".
            line.push_str("\x1b[38;5;16;48;5;231m");
        }
        for x in 0..grid.size {
            line.push(match (grid.dark(x, y), grid.dark(x, y + 1)) {
                (true, true) => '\u{2588}',
                (true, false) => '\u{2580}',
                (false, true) => '\u{2584}',
                (false, false) => ' ',
            });
        }
        if ansi {
            line.push_str("\x1b[0m");
        }
        lines.push(line);
    }
    lines.join("\n")
}

pub fn to_svg(code: &QrCode) -> String {
    code.render::<svg::Color>()
        .min_dimensions(SVG_MIN_SIZE, SVG_MIN_SIZE)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build()
}

/// An 8-bit greyscale PNG. Written with the small `png` crate rather than qrcode's `image`
/// feature: `image` brings a large dependency tree and needs a newer Rust than the workspace's
/// rust-version, for one image of two colours.
pub fn write_png(code: &QrCode, out: &mut dyn Write) -> io::Result<()> {
    let grid = Grid::new(code);
    let side = grid.size * PNG_MODULE_PX;
    let mut pixels = Vec::with_capacity(side * side);
    for y in 0..side {
        for x in 0..side {
            let dark = grid.dark(x / PNG_MODULE_PX, y / PNG_MODULE_PX);
            pixels.push(if dark { 0 } else { 255 });
        }
    }
    let side = u32::try_from(side).map_err(io::Error::other)?;
    let mut encoder = png::Encoder::new(out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(io::Error::other)?;
    writer.write_image_data(&pixels).map_err(io::Error::other)?;
    writer.finish().map_err(io::Error::other)
}

/// The code's modules with the quiet zone around them.
struct Grid {
    colors: Vec<Color>,
    width: usize,
    size: usize,
}

impl Grid {
    fn new(code: &QrCode) -> Self {
        let width = code.width();
        Self {
            colors: code.to_colors(),
            width,
            size: width + 2 * QUIET_ZONE,
        }
    }

    /// Outside the code (the quiet zone, or the row below the last) is light.
    fn dark(&self, x: usize, y: usize) -> bool {
        let (Some(x), Some(y)) = (x.checked_sub(QUIET_ZONE), y.checked_sub(QUIET_ZONE)) else {
            return false;
        };
        x < self.width
            && y < self.width
            && self.colors.get(y * self.width + x) == Some(&Color::Dark)
    }
}

fn write_file(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> anyhow::Result<()> {
    let fail = |err: io::Error| CliError::usage(format!("cannot write {}: {err}", path.display()));
    let file = fs::File::create(path).map_err(fail)?;
    let mut out = io::BufWriter::new(file);
    write(&mut out).map_err(fail)?;
    out.flush().map_err(fail)?;
    Ok(())
}

/// The first http(s) URL on standard input, wherever it is on its line.
fn link_from_stdin() -> anyhow::Result<String> {
    let mut stdin = io::stdin();
    if stdin.is_terminal() {
        eprintln!("paste the link, then press Enter and Ctrl-D:");
    }
    let mut text = String::new();
    stdin.read_to_string(&mut text).map_err(|err| {
        CliError::usage(format!("cannot read the link from standard input: {err}"))
    })?;
    find_link(&text).ok_or_else(|| {
        CliError::usage(
            "no http(s) URL on standard input: pass the link as an argument or pipe it in",
        )
    })
}

fn find_link(text: &str) -> Option<String> {
    text.split_whitespace()
        .map(|word| word.trim_matches(|c| matches!(c, '"' | '\'' | ',' | '<' | '>')))
        .find(|word| word.starts_with("http://") || word.starts_with("https://"))
        .and_then(|word| checked_link(word).ok())
}

fn checked_link(arg: &str) -> anyhow::Result<String> {
    let arg = arg.trim();
    if !arg.contains("://") {
        // Most likely an invite id: the link cannot be had from it.
        return Err(CliError::usage(format!(
            "`{arg}` is not a link: the server shows an invite's link only when it is made, so \
             pass the URL printed by `invites create` (or make a new link with \
             `invites reissue ID --qr`, which stops the old one)"
        )));
    }
    match url::Url::parse(arg) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(arg.to_string()),
        Ok(url) => Err(CliError::usage(format!(
            "`{arg}`: a link must be http or https, not {}",
            url.scheme()
        ))),
        Err(err) => Err(CliError::usage(format!(
            "`{arg}` is not a valid URL: {err}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: &str = "http://127.0.0.1:8080/i/abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

    #[test]
    fn text_is_square_with_a_quiet_zone() {
        let Ok(code) = encode(LINK) else {
            panic!("a short link encodes")
        };
        let text = to_text(&code, false);
        let size = code.width() + 2 * QUIET_ZONE;
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), size.div_ceil(2));
        assert!(lines.iter().all(|l| l.chars().count() == size));
        // The quiet zone: blank first line, finder pattern's corner right after it.
        assert!(lines[0].trim().is_empty());
        assert_eq!(lines[2].chars().nth(QUIET_ZONE), Some('\u{2588}'));
    }

    #[test]
    fn png_and_svg_are_well_formed() {
        let Ok(code) = encode(LINK) else {
            panic!("a short link encodes")
        };
        let mut png = Vec::new();
        assert!(write_png(&code, &mut png).is_ok());
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let svg = to_svg(&code);
        assert!(svg.contains("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn links_are_found_in_piped_output_and_ids_are_refused() {
        let output = "invite 0190abcd\nlink http://h:8080/i/tok\n  status  sent\n";
        assert_eq!(find_link(output).as_deref(), Some("http://h:8080/i/tok"));
        assert_eq!(
            find_link("{\"link_url\": \"https://x/i/t\",").as_deref(),
            Some("https://x/i/t")
        );
        assert!(find_link("nothing here").is_none());
        assert!(checked_link("0190abcd-0000-7000-8000-000000000000").is_err());
        assert!(checked_link("ftp://x/y").is_err());
    }
}

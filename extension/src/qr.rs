//! The link as a QR code, drawn as SVG so it stays sharp when shown, printed or turned into a PNG.
use qrcode::{render::svg, EcLevel, QrCode};

/// Renders `text` as an SVG QR code of at least `min_size` pixels, with the quiet zone scanners
/// need. Medium error correction survives a crumpled printout without making the code dense.
pub fn qr_svg(text: &str, min_size: u32) -> Result<String, qrcode::types::QrError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(min_size, min_size)
        .dark_color(svg::Color("#111827"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_becomes_a_square_svg_of_the_asked_size() {
        let svg = qr_svg("https://beckon.example.com/i/AbC-123_x", 200).expect("fits in a QR code");
        assert!(svg.contains("<svg"), "{svg}");
        assert!(svg.contains("#111827"));
        let width: u32 = svg
            .split("width=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|w| w.parse().ok())
            .expect("svg has a width");
        assert!(width >= 200, "{width}");
    }

    #[test]
    fn text_too_long_for_any_qr_code_is_an_error() {
        assert!(qr_svg(&"x".repeat(5000), 200).is_err());
    }
}

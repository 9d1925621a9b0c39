//! The enrolment QR code, drawn here as SVG: the secret never leaves Gatehouse for a QR
//! service, and the page needs no image request.

use qrcode::QrCode;
use qrcode::render::svg;

/// An inline `<svg>` of `data` (dark modules on white, with a quiet zone, so phones read it in
/// light and dark themes alike).
pub fn svg(data: &str) -> Option<String> {
    let code = QrCode::new(data.as_bytes()).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build();
    // Inline in HTML: without the XML declaration.
    let start = image.find("<svg")?;
    Some(image[start..].to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_an_inline_svg() {
        let s =
            super::svg("otpauth://totp/Gatehouse:a%40b.example?secret=JBSWY3DPEHPK3PXP").unwrap();
        assert!(s.starts_with("<svg"));
        assert!(s.contains("</svg>"));
        assert!(!s.contains("<?xml"));
    }
}

//! QR codes, for the authenticator app's `otpauth://` address at a first log in (the console
//! shows the SVG as a `data:` image; its CSP allows `img-src data:`).

use qrcode::render::svg;

/// `text` as a QR code in SVG, black on white with the quiet zone around it, error correction M
/// (what authenticator apps' own examples use), at least 240 pixels wide.
pub fn svg(text: &str) -> Result<String, qrcode::types::QrError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)?;
    Ok(code
        .render::<svg::Color>()
        .min_dimensions(240, 240)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}

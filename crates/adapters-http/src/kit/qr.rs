//! QR codes for pages: what a phone scans (a two-factor secret, a visit token), drawn as SVG
//! and inlined as a `data:` URL (the CSP allows `data:` images; nothing leaves the server).

use base64::Engine as _;

use crate::error::AppError;

/// `content` as a QR code at least `size` pixels wide, as a `data:image/svg+xml` URL.
pub(crate) fn qr_data_url(content: &str, size: u32) -> Result<String, AppError> {
    let code = qrcode::QrCode::new(content.as_bytes())
        .map_err(|e| AppError::Internal(format!("qr code: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(size, size)
        .quiet_zone(true)
        .build();
    Ok(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    ))
}

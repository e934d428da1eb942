//! QR codes of entry tokens, as SVG and PNG (cargo feature `qr`).
//!
//! Owns the choice of symbol: error-correction level M, one alphanumeric
//! segment (the token text is all base45 characters, which is exactly the
//! QR alphanumeric set), the smallest version that fits, and a four-module
//! quiet zone. Must never re-encode the token in byte mode, which would
//! make the symbol larger.

use qrcode::bits::Bits;
use qrcode::{Color, EcLevel, QrCode, Version};

use crate::error::{Error, Result};

/// The quiet zone around the symbol, in modules (ISO/IEC 18004 asks for 4).
const QUIET_ZONE: usize = 4;

/// A token's QR symbol, ready to render.
///
/// ```
/// use reservo::token::qr::TokenQr;
/// let qr = TokenQr::new("RV1:6BFOXN*TS0BI$ZD-PH").unwrap();
/// assert_eq!((qr.version(), qr.width()), (2, 25)); // 22 characters; 1-M holds 20
/// assert!(qr.to_svg(4).unwrap().starts_with("<?xml"));
/// assert!(qr.to_png(4).unwrap().starts_with(b"\x89PNG"));
/// ```
pub struct TokenQr {
    code: QrCode,
}

impl TokenQr {
    /// The smallest level-M symbol holding `token` in alphanumeric mode.
    /// Refuses text with characters outside the QR alphanumeric set.
    pub fn new(token: &str) -> Result<TokenQr> {
        let qr_error = |e: qrcode::types::QrError| {
            Error::invalid("token", format!("cannot encode as a QR code: {e}"))
        };
        for n in 1..=40 {
            let mut bits = Bits::new(Version::Normal(n));
            let fits = bits
                .push_alphanumeric_data(token.as_bytes())
                .and_then(|()| bits.push_terminator(EcLevel::M));
            match fits {
                Ok(()) => {
                    let code = QrCode::with_bits(bits, EcLevel::M).map_err(qr_error)?;
                    return Ok(TokenQr { code });
                }
                Err(qrcode::types::QrError::DataTooLong) => continue,
                Err(e) => return Err(qr_error(e)),
            }
        }
        Err(qr_error(qrcode::types::QrError::DataTooLong))
    }

    /// The QR version (1 to 40): the symbol is `17 + 4 * version` modules wide.
    pub fn version(&self) -> i16 {
        match self.code.version() {
            Version::Normal(n) | Version::Micro(n) => n,
        }
    }

    /// Modules per side, without the quiet zone.
    pub fn width(&self) -> usize {
        self.code.width()
    }

    /// The symbol as an SVG document, `module_px` user units per module.
    pub fn to_svg(&self, module_px: u32) -> Result<String> {
        let px = checked_module_px(module_px)?;
        Ok(self
            .code
            .render::<qrcode::render::svg::Color<'_>>()
            .quiet_zone(true)
            .module_dimensions(px, px)
            .build())
    }

    /// The symbol as an 8-bit grayscale PNG, `module_px` pixels per module.
    pub fn to_png(&self, module_px: u32) -> Result<Vec<u8>> {
        let px = usize::try_from(checked_module_px(module_px)?).expect("at most 64");
        let modules = self.code.width();
        let side = (modules + 2 * QUIET_ZONE) * px;
        let colors = self.code.to_colors();
        let mut pixels = vec![255u8; side * side];
        for (i, color) in colors.iter().enumerate() {
            if *color == Color::Dark {
                let (mx, my) = (i % modules + QUIET_ZONE, i / modules + QUIET_ZONE);
                for y in my * px..(my + 1) * px {
                    pixels[y * side + mx * px..y * side + (mx + 1) * px].fill(0);
                }
            }
        }
        let side32 = u32::try_from(side).expect("a QR image is at most a few thousand pixels");
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, side32, side32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let png_error = |e: png::EncodingError| Error::invalid("png", e.to_string());
        let mut writer = encoder.write_header().map_err(png_error)?;
        writer.write_image_data(&pixels).map_err(png_error)?;
        writer.finish().map_err(png_error)?;
        Ok(out)
    }
}

fn checked_module_px(module_px: u32) -> Result<u32> {
    if !(1..=64).contains(&module_px) {
        return Err(Error::invalid(
            "module_px",
            format!("must be 1 to 64 pixels per module, got {module_px}"),
        ));
    }
    Ok(module_px)
}

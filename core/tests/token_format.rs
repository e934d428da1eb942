//! The token format as an outsider sees it: size, interoperability with
//! general-purpose CBOR and Ed25519 code, and the worked example that
//! `docs/token-format.md` shows.

#[path = "support/base45.rs"]
mod base45;

use chrono::{TimeZone, Utc};
use ciborium::Value;
use ed25519_dalek::{Signature, VerifyingKey};
use reservo::ids::{BookingId, ResourceId};
use reservo::token::{
    EntryPolicy, IssuerKey, IssuerKeySet, RevocationList, Scope, TicketClaims, TokenId,
    ValidityWindow, Verifier,
};

/// The test key of the worked example: RFC 8032 test 1's secret key.
const EXAMPLE_SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn example_keys() -> IssuerKeySet {
    let seed: [u8; 32] = unhex(EXAMPLE_SEED).try_into().unwrap();
    IssuerKeySet::new(IssuerKey::from_seed("k1".parse().unwrap(), seed))
}

/// The worked example's ticket: a single entry to a museum on one day.
fn example_claims() -> TicketClaims {
    TicketClaims {
        token_id: TokenId::from_bytes(unhex("0f1e2d3c4b5a6978")).unwrap(),
        booking: BookingId::new("BK7Q3M9X").unwrap(),
        resource: ResourceId::new("museum").unwrap(),
        validity: ValidityWindow::new(
            Utc.with_ymd_and_hms(2026, 7, 1, 7, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 7, 1, 20, 0, 0).unwrap(),
        )
        .unwrap(),
        entry: EntryPolicy::default(),
        scope: Scope::default(),
    }
}

fn cbor(bytes: &[u8]) -> Value {
    ciborium::from_reader(bytes).unwrap()
}

fn map_get(map: &Value, key: i64) -> Option<&Value> {
    map.as_map()?
        .iter()
        .find(|(k, _)| k.as_integer() == Some(key.into()))
        .map(|(_, v)| v)
}

#[test]
fn a_typical_ticket_fits_in_180_base45_characters() {
    let token = example_keys().issue(&example_claims());
    let base45 = token.strip_prefix("RV1:").unwrap();
    assert!(base45.len() <= 180, "{} characters: {token}", base45.len());
}

#[test]
fn a_token_verifies_with_plain_cbor_and_ed25519_code() {
    let keys = example_keys();
    let token = keys.issue(&example_claims());
    let envelope = base45::decode(token.strip_prefix("RV1:").unwrap());

    // COSE_Sign1 = [protected: bstr, unprotected: map, payload: bstr, signature: bstr]
    let Value::Array(parts) = cbor(&envelope) else {
        panic!("not an array")
    };
    let [protected, unprotected, payload, signature] = <[Value; 4]>::try_from(parts).unwrap();
    let protected = protected.into_bytes().unwrap();
    assert_eq!(unprotected, Value::Map(vec![]));
    let header = cbor(&protected);
    assert_eq!(map_get(&header, 1), Some(&Value::from(-8)), "alg EdDSA");
    assert_eq!(
        map_get(&header, 4),
        Some(&Value::Bytes(b"k1".to_vec())),
        "kid"
    );

    // Sig_structure = ["Signature1", protected, external_aad = h'', payload]
    let payload = payload.into_bytes().unwrap();
    let sig_structure = Value::Array(vec![
        "Signature1".into(),
        Value::Bytes(protected),
        Value::Bytes(vec![]),
        Value::Bytes(payload.clone()),
    ]);
    let mut tbs = Vec::new();
    ciborium::into_writer(&sig_structure, &mut tbs).unwrap();
    let public = VerifyingKey::from_bytes(&keys.current().public_key().to_bytes()).unwrap();
    let signature: [u8; 64] = signature.into_bytes().unwrap().try_into().unwrap();
    public
        .verify_strict(&tbs, &Signature::from_bytes(&signature))
        .expect("the signature verifies with plain ed25519-dalek");

    let claims = cbor(&payload);
    assert_eq!(map_get(&claims, 2), Some(&Value::from("BK7Q3M9X")), "sub");
    assert_eq!(map_get(&claims, 3), Some(&Value::from("museum")), "aud");
    assert_eq!(
        map_get(&claims, 5),
        Some(&Value::from(1_782_889_200)),
        "nbf"
    );
    assert_eq!(
        map_get(&claims, 4),
        Some(&Value::from(1_782_936_000)),
        "exp"
    );
    assert_eq!(
        map_get(&claims, 7),
        Some(&Value::Bytes(unhex("0f1e2d3c4b5a6978"))),
        "cti"
    );
}

#[test]
fn a_token_parses_with_the_coset_library() {
    use coset::{CborSerializable, CoseSign1, cwt::ClaimsSet};
    let keys = example_keys();
    let token = keys.issue(&example_claims());
    let sign1 = CoseSign1::from_slice(&base45::decode(&token[4..])).unwrap();
    assert_eq!(sign1.protected.header.key_id, b"k1");
    let claims = ClaimsSet::from_slice(sign1.payload.as_ref().unwrap()).unwrap();
    assert_eq!(claims.subject.as_deref(), Some("BK7Q3M9X"));
}

#[test]
fn the_worked_example_in_the_format_doc_is_what_we_issue() {
    let doc = include_str!("../../docs/token-format.md");
    let keys = example_keys();
    let token = keys.issue(&example_claims());
    assert!(
        doc.contains(&token),
        "docs/token-format.md must show {token}"
    );
    let public = reservo::token::PublicKey::from_bytes(
        "k1".parse().unwrap(),
        keys.current().public_key().to_bytes(),
    )
    .unwrap();
    assert!(doc.contains(public.to_public_key_pem().unwrap().trim()));
    let at = Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0).unwrap();
    assert_eq!(
        Verifier::new(keys.public_keys())
            .verify_at(&token, at)
            .unwrap(),
        example_claims()
    );
}

#[test]
fn a_revocation_list_is_a_cose_sign1_with_a_plain_cbor_map() {
    let keys = example_keys();
    let mut list =
        RevocationList::new(7, Utc.with_ymd_and_hms(2026, 7, 1, 6, 0, 0).unwrap()).unwrap();
    list.revoke_token(TokenId::from_bytes(unhex("0f1e2d3c4b5a6978")).unwrap());
    list.revoke_booking(BookingId::new("BK-CANCELLED").unwrap());
    let Value::Array(parts) = cbor(&list.sign(&keys)) else {
        panic!("not an array")
    };
    let header = cbor(parts[0].as_bytes().unwrap());
    assert_eq!(
        map_get(&header, 3),
        Some(&Value::from("application/vnd.reservo.revocation+cbor"))
    );
    let body = cbor(parts[2].as_bytes().unwrap());
    assert_eq!(map_get(&body, 1), Some(&Value::from(7)));
    assert_eq!(map_get(&body, 2), Some(&Value::from(1_782_885_600)));
    assert_eq!(
        map_get(&body, 3),
        Some(&Value::Array(vec![Value::Bytes(unhex("0f1e2d3c4b5a6978"))]))
    );
    assert_eq!(
        map_get(&body, 4),
        Some(&Value::Array(vec!["BK-CANCELLED".into()]))
    );
}

#[cfg(feature = "qr")]
#[test]
fn a_typical_ticket_is_a_version_8_m_qr_code_in_alphanumeric_mode() {
    use reservo::token::qr::TokenQr;
    let qr = TokenQr::new(&example_keys().issue(&example_claims())).unwrap();
    // 183 characters: version 8-M holds 221 alphanumeric characters but
    // only 152 bytes, so version 8 proves alphanumeric mode.
    assert_eq!((qr.version(), qr.width()), (8, 49));
    let png = qr.to_png(4).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    // 49 modules + 2 * 4 quiet modules, 4 pixels each: the IHDR width.
    assert_eq!(&png[16..20], &((49 + 8) * 4u32).to_be_bytes());
    let svg = qr.to_svg(4).unwrap();
    assert!(svg.contains("<svg") && svg.contains(r#"width="228""#));
    assert_eq!(qr.to_svg(0).unwrap_err().code(), "INVALID_INPUT");
}

/// The pixels of an 8-bit grayscale PNG, and its side.
#[cfg(feature = "qr")]
fn gray_pixels(png_bytes: &[u8]) -> (Vec<u8>, usize) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    assert_eq!(info.width, info.height);
    (pixels, usize::try_from(info.width).unwrap())
}

#[cfg(feature = "qr")]
#[test]
fn the_png_scans_back_to_the_token_with_an_independent_decoder() {
    use reservo::token::qr::TokenQr;
    let token = example_keys().issue(&example_claims());
    let qr = TokenQr::new(&token).unwrap();
    for px in [1, 3] {
        let (pixels, side) = gray_pixels(&qr.to_png(px).unwrap());
        let px = usize::try_from(px).unwrap();
        assert_eq!(side, (qr.width() + 8) * px);
        // Every module is one solid px-by-px square, black or white, and
        // the four-module quiet zone is white.
        for my in 0..side / px {
            for mx in 0..side / px {
                let first = pixels[my * px * side + mx * px];
                assert!(first == 0 || first == 255);
                for y in my * px..(my + 1) * px {
                    assert!(
                        pixels[y * side + mx * px..y * side + (mx + 1) * px]
                            .iter()
                            .all(|&p| p == first)
                    );
                }
                let quiet = mx < 4 || my < 4 || mx >= side / px - 4 || my >= side / px - 4;
                assert!(!quiet || first == 255, "quiet zone module ({mx}, {my})");
            }
        }
        let mut image =
            rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| pixels[y * side + x]);
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "{px} px a module");
        let (meta, text) = grids[0].decode().unwrap();
        assert_eq!(text, token);
        assert_eq!(meta.version.0, 8);
    }
}

/// The SVG's dark modules drawn on a white canvas, `side` units square:
/// the renderer's document is one white background `rect` and one black
/// `path` of rectangles, each `M{left} {top}h{width}v{height}H{left}V{top}`.
#[cfg(feature = "qr")]
fn rasterize_svg(svg: &str) -> (Vec<u8>, usize) {
    let attribute = |name: &str| {
        let start = svg.find(&format!(r#" {name}=""#)).unwrap() + name.len() + 3;
        &svg[start..start + svg[start..].find('"').unwrap()]
    };
    let side: usize = attribute("width").parse().unwrap();
    assert_eq!(attribute("height"), side.to_string());
    assert_eq!(attribute("viewBox"), format!("0 0 {side} {side}"));
    let background = format!(r##"<rect x="0" y="0" width="{side}" height="{side}" fill="#fff"/>"##);
    assert!(svg.contains(&background), "a white background");
    assert!(svg.ends_with(r#""/></svg>"#));
    let path_start = svg.find(r##"<path fill="#000" d=""##).unwrap() + 21;
    let path = &svg[path_start..svg.len() - r#""/></svg>"#.len()];
    let mut pixels = vec![255u8; side * side];
    for rect in path.split('M').skip(1) {
        let numbers: Vec<usize> = rect
            .split(|c: char| c == ' ' || c.is_ascii_alphabetic())
            .filter(|n| !n.is_empty())
            .map(|n| n.parse().unwrap())
            .collect();
        let [left, top, width, height, left_again, top_again] = numbers[..] else {
            panic!("not a rectangle: M{rect}")
        };
        assert_eq!((left_again, top_again), (left, top), "a closed rectangle");
        assert_eq!(
            rect,
            format!("{left} {top}h{width}v{height}H{left}V{top}"),
            "the path's commands"
        );
        for y in top..top + height {
            pixels[y * side + left..y * side + left + width].fill(0);
        }
    }
    (pixels, side)
}

#[cfg(feature = "qr")]
#[test]
fn the_svg_draws_the_same_modules_as_the_png() {
    use reservo::token::qr::TokenQr;
    let token = example_keys().issue(&example_claims());
    let qr = TokenQr::new(&token).unwrap();
    for px in [1, 4] {
        let (svg_pixels, svg_side) = rasterize_svg(&qr.to_svg(px).unwrap());
        let (png_pixels, png_side) = gray_pixels(&qr.to_png(px).unwrap());
        assert_eq!(svg_side, png_side, "{px} units a module");
        assert!(svg_pixels.contains(&0) && svg_pixels.contains(&255));
        assert!(svg_pixels == png_pixels, "{px} units a module");
    }
    // And it scans back to the token on its own.
    let (pixels, side) = rasterize_svg(&qr.to_svg(2).unwrap());
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| pixels[y * side + x]);
    let (_, text) = image.detect_grids()[0].decode().unwrap();
    assert_eq!(text, token);
}

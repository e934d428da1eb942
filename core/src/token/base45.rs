//! Base45 (RFC 9285): the text encoding that fits QR alphanumeric mode.
//!
//! Owns the exact RFC 9285 encoding and a strict decoder. Must never accept
//! a character outside the 45-character alphabet, a dangling single
//! character, or a triple whose value exceeds 65535 (the RFC says a decoder
//! must fail on these), so every byte string has exactly one encoding.

/// The RFC 9285 alphabet, in value order.
const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Encodes bytes as base45: each pair of bytes becomes three characters and
/// a trailing single byte two.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(2) * 3);
    let mut push = |value: usize, digits: usize| {
        let mut v = value;
        for _ in 0..digits {
            out.push(char::from(ALPHABET[v % 45]));
            v /= 45;
        }
    };
    let mut pairs = bytes.chunks_exact(2);
    for pair in &mut pairs {
        push(usize::from(pair[0]) * 256 + usize::from(pair[1]), 3);
    }
    if let [last] = pairs.remainder() {
        push(usize::from(*last), 2);
    }
    out
}

/// Decodes base45 text, or says why it is not base45.
pub(crate) fn decode(text: &str) -> Result<Vec<u8>, String> {
    let digits = text
        .bytes()
        .enumerate()
        .map(|(at, c)| {
            ALPHABET
                .iter()
                .position(|&a| a == c)
                .ok_or_else(|| format!("character {at} ({:?}) is not base45", char::from(c)))
        })
        .collect::<Result<Vec<usize>, String>>()?;
    let mut out = Vec::with_capacity(digits.len() / 3 * 2 + 1);
    for group in digits.chunks(3) {
        match *group {
            [c, d, e] => {
                let value = c + d * 45 + e * 45 * 45;
                let pair = u16::try_from(value)
                    .map_err(|_| format!("base45 triple {value} exceeds 65535"))?;
                out.extend_from_slice(&pair.to_be_bytes());
            }
            [c, d] => {
                let value = c + d * 45;
                let byte =
                    u8::try_from(value).map_err(|_| format!("base45 pair {value} exceeds 255"))?;
                out.push(byte);
            }
            _ => return Err("base45 text cannot end in a single character".to_owned()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_the_rfc_9285_examples() {
        assert_eq!(encode(b"AB"), "BB8");
        assert_eq!(encode(b"Hello!!"), "%69 VD92EX0");
        assert_eq!(encode(b"base-45"), "UJCLQE7W581");
        assert_eq!(encode(b""), "");
    }

    #[test]
    fn decodes_the_rfc_9285_examples() {
        assert_eq!(decode("QED8WEX0").unwrap(), b"ietf!");
        assert_eq!(decode("%69 VD92EX0").unwrap(), b"Hello!!");
        assert_eq!(decode("BB8").unwrap(), b"AB");
    }

    #[test]
    fn refuses_what_the_rfc_says_a_decoder_must_refuse() {
        // 65536 does not fit in two bytes (RFC 9285 section 6).
        assert!(decode("GGW").is_err());
        // 256 does not fit in one byte.
        assert!(decode("::").is_err());
        // A lone trailing character.
        assert!(decode("BB8A").is_err());
        // Lower case is not in the alphabet.
        assert!(decode("bb8").is_err());
    }

    #[test]
    fn round_trips_every_byte_pair_edge() {
        for bytes in [
            &[0u8][..],
            &[255],
            &[0, 0],
            &[255, 255],
            &[1, 2, 3, 254, 255],
        ] {
            assert_eq!(decode(&encode(bytes)).unwrap(), bytes);
        }
    }
}

//! An independent base45 (RFC 9285) for the token tests: written from the
//! RFC, not shared with the crate, so a bug in the crate's codec cannot
//! hide in both. Panics on text that is not base45.

#![allow(dead_code)]

const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Two bytes become three characters, a trailing byte two.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(2) {
        let (mut n, digits) = match chunk {
            [a, b] => (usize::from(*a) * 256 + usize::from(*b), 3),
            [a] => (usize::from(*a), 2),
            _ => unreachable!("chunks(2) yields one or two bytes"),
        };
        for _ in 0..digits {
            out.push(char::from(ALPHABET[n % 45]));
            n /= 45;
        }
    }
    out
}

/// The bytes of base45 `text`.
pub fn decode(text: &str) -> Vec<u8> {
    let digits: Vec<usize> = text
        .bytes()
        .map(|c| {
            ALPHABET
                .iter()
                .position(|&a| a == c)
                .expect("a base45 character")
        })
        .collect();
    let mut out = Vec::new();
    for group in digits.chunks(3) {
        let n = group.iter().rev().fold(0, |acc, d| acc * 45 + d);
        if group.len() == 3 {
            out.extend_from_slice(&u16::try_from(n).unwrap().to_be_bytes());
        } else {
            out.push(u8::try_from(n).unwrap());
        }
    }
    out
}

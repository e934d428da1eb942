//! Connection strings as libpq writes them: a `postgres://` URL with a
//! query, or `key=value` pairs. This module owns taking one apart into its
//! parameters and putting it back together for the driver, unchanged but
//! for the parameters a caller removed or added. It must never let an
//! error message quote a value (it may be a password).

use std::borrow::Cow;

use crate::ports::StorageError;

pub(super) type Pair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// A connection string taken apart: its parameters, in order, and for a
/// URL the part before its query.
pub(super) struct Parsed<'a> {
    pub pairs: Vec<Pair<'a>>,
    url: Option<&'a str>,
}

/// Takes `connection` apart.
pub(super) fn parse(connection: &str) -> Result<Parsed<'_>, StorageError> {
    Ok(match url_query(connection) {
        Some((head, query)) => Parsed {
            pairs: url_pairs(query)?,
            url: Some(head),
        },
        None => Parsed {
            pairs: key_value_pairs(connection)?,
            url: None,
        },
    })
}

impl Parsed<'_> {
    /// The connection string again, in the form it came in.
    pub fn render(&self) -> String {
        match self.url {
            Some(head) => {
                let query: Vec<String> = self
                    .pairs
                    .iter()
                    .map(|(key, value)| {
                        format!("{}={}", percent_encode(key), percent_encode(value))
                    })
                    .collect();
                format!("{head}?{}", query.join("&"))
            }
            None => {
                let pairs: Vec<String> = self
                    .pairs
                    .iter()
                    .map(|(key, value)| format!("{key}='{}'", quote(value)))
                    .collect();
                pairs.join(" ")
            }
        }
    }
}

/// A URL's part before its query, and the query (empty if it has none);
/// `None` if `connection` is not a URL.
fn url_query(connection: &str) -> Option<(&str, &str)> {
    ["postgres://", "postgresql://"]
        .iter()
        .any(|scheme| connection.starts_with(scheme))
        .then(|| connection.split_once('?').unwrap_or((connection, "")))
}

/// A URL query's `key=value` pairs, percent-decoded, in order.
fn url_pairs(query: &str) -> Result<Vec<Pair<'_>>, StorageError> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').ok_or_else(|| {
                StorageError::backend(format!(
                    "invalid PostgreSQL connection string: parameter {pair:?} has no value"
                ))
            })?;
            Ok((percent_decode(key)?, percent_decode(value)?))
        })
        .collect()
}

/// `text` percent-decoded. Errors do not quote it: it may be a password.
fn percent_decode(text: &str) -> Result<Cow<'_, str>, StorageError> {
    if !text.contains('%') {
        return Ok(Cow::Borrowed(text));
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok());
            let Some(byte) = hex else {
                return Err(StorageError::backend(format!(
                    "invalid PostgreSQL connection string: bad percent-encoding at byte {i} of a \
                     parameter"
                )));
            };
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map(Cow::Owned).map_err(|_| {
        StorageError::backend(
            "invalid PostgreSQL connection string: a parameter does not decode to UTF-8",
        )
    })
}

fn percent_encode(text: &str) -> Cow<'_, str> {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"-._~/:,".contains(&b);
    if text.bytes().all(plain) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if plain(byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    Cow::Owned(out)
}

/// libpq `key = value` pairs with the driver's rules: whitespace between
/// pairs and around `=`, values bare or in single quotes, `\` escaping the
/// next character in either.
fn key_value_pairs(connection: &str) -> Result<Vec<Pair<'_>>, StorageError> {
    let invalid =
        |why: &str| StorageError::backend(format!("invalid PostgreSQL connection string: {why}"));
    let mut pairs = Vec::new();
    let mut rest = connection.trim_start();
    while !rest.is_empty() {
        let key_end = rest
            .find(|c: char| c.is_whitespace() || c == '=')
            .unwrap_or(rest.len());
        let (key, after) = rest.split_at(key_end);
        if key.is_empty() {
            return Err(invalid("a parameter has no name"));
        }
        let after = after.trim_start();
        let after = after
            .strip_prefix('=')
            .ok_or_else(|| invalid(&format!("{key:?} is not followed by `=`")))?
            .trim_start();
        let (quoted, body) = match after.strip_prefix('\'') {
            Some(body) => (true, body),
            None => (false, after),
        };
        let mut value = String::new();
        let mut chars = body.char_indices();
        let mut end = body.len();
        let mut closed = false;
        while let Some((at, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                }
                '\'' if quoted => {
                    end = at + 1;
                    closed = true;
                    break;
                }
                c if !quoted && c.is_whitespace() => {
                    end = at;
                    break;
                }
                c => value.push(c),
            }
        }
        if quoted && !closed {
            return Err(invalid(&format!(
                "the value of {key:?} has no closing quote"
            )));
        }
        if !quoted && value.is_empty() {
            return Err(invalid(&format!("{key:?} has no value")));
        }
        pairs.push((Cow::Borrowed(key), Cow::Owned(value)));
        rest = body[end..].trim_start();
    }
    Ok(pairs)
}

/// `value` escaped for a single-quoted libpq value.
fn quote(value: &str) -> Cow<'_, str> {
    if !value.contains(['\\', '\'']) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        if matches!(c, '\\' | '\'') {
            out.push('\\');
        }
        out.push(c);
    }
    Cow::Owned(out)
}

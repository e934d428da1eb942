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
///
/// As in libpq (and the driver), the user and password run from the
/// scheme to the first `@` unless a `/` comes first, so a password may hold
/// a `?` without percent-encoding it: the query starts at the first `?`
/// after them.
fn url_query(connection: &str) -> Option<(&str, &str)> {
    let scheme = ["postgres://", "postgresql://"]
        .into_iter()
        .find(|scheme| connection.starts_with(scheme))?;
    let rest = &connection[scheme.len()..];
    let credentials_end = match rest.find(['@', '/']) {
        Some(at) if rest.as_bytes()[at] == b'@' => scheme.len() + at + 1,
        _ => scheme.len(),
    };
    Some(match connection[credentials_end..].find('?') {
        Some(mark) => {
            let mark = credentials_end + mark;
            (&connection[..mark], &connection[mark + 1..])
        }
        None => (connection, ""),
    })
}

/// A URL query's `key=value` pairs, percent-decoded, in order.
fn url_pairs(query: &str) -> Result<Vec<Pair<'_>>, StorageError> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            // Not quoted: a mistyped URL can put a password here.
            let (key, value) = pair.split_once('=').ok_or_else(|| {
                StorageError::backend(
                    "invalid PostgreSQL connection string: a query parameter has no `=`",
                )
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
            .ok_or_else(|| invalid(&format!("{} is not followed by `=`", name_of(key))))?
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
                "the value of {} has no closing quote",
                name_of(key)
            )));
        }
        if !quoted && value.is_empty() {
            return Err(invalid(&format!("{} has no value", name_of(key))));
        }
        pairs.push((Cow::Borrowed(key), Cow::Owned(value)));
        rest = body[end..].trim_start();
    }
    Ok(pairs)
}

/// `key` quoted for an error message if it looks like a parameter's name;
/// otherwise (a mistyped URL, say `postgresql+asyncpg://app:secret@db`) a
/// description that quotes nothing, since it may hold a password.
fn name_of(key: &str) -> Cow<'_, str> {
    if key.len() <= 64 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Cow::Owned(format!("{key:?}"))
    } else {
        Cow::Borrowed("a parameter (not shown: it is not a parameter name)")
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(parsed: &Parsed<'_>) -> Vec<(String, String)> {
        parsed
            .pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_url_s_query_starts_at_the_first_question_mark_after_its_credentials() {
        let cases = [
            // A password may hold `?` (and end with one) unencoded.
            (
                "postgres://app:s?cret?@db:5432/x?sslmode=require&application_name=a",
                (
                    "postgres://app:s?cret?@db:5432/x",
                    "sslmode=require&application_name=a",
                ),
            ),
            ("postgresql://db/x?a=1", ("postgresql://db/x", "a=1")),
            ("postgres://db/x", ("postgres://db/x", "")),
            // A `/` before any `@` ends the part that could be credentials.
            ("postgres://db/p@th?a=1", ("postgres://db/p@th", "a=1")),
            (
                "postgres://db?sslrootcert=/etc/ca.pem",
                ("postgres://db", "sslrootcert=/etc/ca.pem"),
            ),
            ("postgres://@db?a=1", ("postgres://@db", "a=1")),
        ];
        for (url, split) in cases {
            assert_eq!(url_query(url), Some(split), "{url}");
        }
        for not_a_url in ["host=db user=app", "mysql://db/x?a=1", "postgres:/db"] {
            assert_eq!(url_query(not_a_url), None, "{not_a_url}");
        }
    }

    #[test]
    fn url_parameters_are_percent_decoded_and_encoded_again_when_rendered() {
        let url =
            "postgres://app@db/x?sslrootcert=%2Fetc%2Fca%20file.pem&&application_name=r%C3%A9serve";
        let parsed = parse(url).unwrap();
        assert_eq!(
            pairs(&parsed),
            owned(&[
                ("sslrootcert", "/etc/ca file.pem"),
                ("application_name", "réserve")
            ])
        );
        assert_eq!(
            parsed.render(),
            "postgres://app@db/x?sslrootcert=/etc/ca%20file.pem&application_name=r%C3%A9serve"
        );
        assert_eq!(percent_encode("a-z_0.9~/:,"), "a-z_0.9~/:,");
        assert_eq!(percent_encode("a b&c=d%"), "a%20b%26c%3Dd%25");
    }

    #[test]
    fn malformed_url_queries_are_refused_without_quoting_a_value() {
        let cases = [
            (
                "postgres://db/x?password=s%zzcret",
                "bad percent-encoding at byte 1",
            ),
            (
                "postgres://db/x?password=secret%4",
                "bad percent-encoding at byte 6",
            ),
            (
                "postgres://db/x?password=secret%FF",
                "does not decode to UTF-8",
            ),
            ("postgres://db/x?secret", "has no `=`"),
        ];
        for (url, why) in cases {
            let error = parse(url).err().expect(url).to_string();
            assert!(error.contains(why), "{url}: {error}");
            assert!(
                !error.contains("secret") && !error.contains("cret"),
                "{error}"
            );
        }
    }

    #[test]
    fn key_value_strings_take_bare_quoted_and_escaped_values() {
        let text = "  host=db  user = 'app user' password='it\\'s\\\\' dbname=x\\ y port =5432 ";
        let parsed = parse(text).unwrap();
        assert_eq!(
            pairs(&parsed),
            owned(&[
                ("host", "db"),
                ("user", "app user"),
                ("password", "it's\\"),
                ("dbname", "x y"),
                ("port", "5432"),
            ])
        );
        assert_eq!(
            parsed.render(),
            "host='db' user='app user' password='it\\'s\\\\' dbname='x y' port='5432'"
        );
        assert_eq!(pairs(&parse(&parsed.render()).unwrap()), pairs(&parsed));
        assert_eq!(pairs(&parse("user=''").unwrap()), owned(&[("user", "")]));
        // A quote inside a bare value is part of it.
        assert_eq!(
            pairs(&parse("user=o'brien host=db").unwrap()),
            owned(&[("user", "o'brien"), ("host", "db")])
        );
        assert!(parse("").unwrap().pairs.is_empty());
    }

    #[test]
    fn malformed_key_value_strings_are_refused_without_quoting_a_value() {
        let cases = [
            ("=secret", "a parameter has no name"),
            ("host=db password", "\"password\" is not followed by `=`"),
            (
                "password='secret",
                "the value of \"password\" has no closing quote",
            ),
            ("host=db password= ", "\"password\" has no value"),
            (
                "postgresql+asyncpg://app:secret@db",
                "a parameter (not shown: it is not a parameter name) is not followed by `=`",
            ),
        ];
        for (text, why) in cases {
            let error = parse(text).err().expect(text).to_string();
            assert!(error.contains(why), "{text}: {error}");
            assert!(!error.contains("secret"), "{error}");
        }
        let long = "k".repeat(65);
        assert!(
            parse(&long)
                .err()
                .unwrap()
                .to_string()
                .contains("not shown")
        );
        let longest = "k".repeat(64);
        assert!(
            parse(&longest)
                .err()
                .unwrap()
                .to_string()
                .contains(&format!("{longest:?}"))
        );
    }
}

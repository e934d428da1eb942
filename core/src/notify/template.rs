//! SMS templates: text with `{dotted.path}` placeholders filled from an
//! event's JSON payload, and the book of templates per event kind and
//! audience.
//!
//! Owns the template syntax (checked when a template is registered, so a
//! broken template never reaches the dispatcher), rendering (a missing
//! value is an error naming the placeholder, never an empty gap in the
//! text), and where each audience's phone number is found in a payload.
//! Must never talk to storage or a sender: it turns values into values.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::notify::Audience;
use crate::notify::phone::PhoneNumber;

/// A dotted path into a JSON payload, such as `customer.phone` or
/// `guests.0.name` (a number indexes an array).
///
/// Segments are ASCII letters, digits, `_` and `-`, separated by single dots.
///
/// ```
/// use reservo::notify::PayloadPath;
/// let path = PayloadPath::parse("customer.phone").unwrap();
/// assert_eq!(path.to_string(), "customer.phone");
/// assert_eq!(PayloadPath::parse("customer..phone").unwrap_err().code(), "INVALID_INPUT");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PayloadPath(String);

impl PayloadPath {
    /// Checks and wraps `path`.
    pub fn parse(path: &str) -> Result<PayloadPath> {
        let segment_ok = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        if !path.split('.').all(segment_ok) {
            return Err(Error::invalid(
                "placeholder",
                format!(
                    "{path:?} is not a dotted path: use names of letters, digits, '_' or '-' \
                     joined by single dots, like customer.phone"
                ),
            ));
        }
        Ok(PayloadPath(path.to_owned()))
    }

    /// The value at this path in `payload`, if there is one and it is not
    /// `null`.
    ///
    /// ```
    /// use reservo::notify::PayloadPath;
    /// let payload = serde_json::json!({"guests": [{"name": "Ana"}]});
    /// let path = PayloadPath::parse("guests.0.name").unwrap();
    /// assert_eq!(path.lookup(&payload), Some(&serde_json::json!("Ana")));
    /// ```
    pub fn lookup<'a>(&self, payload: &'a Value) -> Option<&'a Value> {
        let mut at = payload;
        for segment in self.0.split('.') {
            at = match at {
                Value::Object(fields) => fields.get(segment)?,
                Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        (!at.is_null()).then_some(at)
    }

    /// The value at this path as text: strings as they are, numbers and
    /// booleans written out. Missing values, `null`, objects and arrays are
    /// an [`Error::InvalidInput`] naming the path.
    pub fn text(&self, payload: &Value) -> Result<String> {
        match self.lookup(payload) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(v.to_string()),
            Some(other) => Err(Error::invalid(
                format!("placeholder {{{self}}}"),
                format!("is {other}, not a text, number or boolean value"),
            )),
            None => Err(Error::invalid(
                format!("placeholder {{{self}}}"),
                "has no value in the event payload",
            )),
        }
    }
}

impl fmt::Display for PayloadPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Placeholder(PayloadPath),
}

/// A checked SMS template: literal text and `{dotted.path}` placeholders.
/// `{{` and `}}` stand for literal braces.
///
/// ```
/// use reservo::notify::Template;
/// let template = Template::parse("Hi {customer.name}, ref {booking.id} {{ok}}").unwrap();
/// let payload = serde_json::json!({"customer": {"name": "Ana"}, "booking": {"id": "bk1"}});
/// assert_eq!(template.render(&payload).unwrap(), "Hi Ana, ref bk1 {ok}");
///
/// let err = template.render(&serde_json::json!({"customer": {"name": "Ana"}})).unwrap_err();
/// assert_eq!(err.code(), "INVALID_INPUT");
/// assert!(err.to_string().contains("{booking.id}"));
///
/// assert_eq!(Template::parse("Hi {customer.name").unwrap_err().code(), "INVALID_INPUT");
/// assert_eq!(Template::parse("Hi {}").unwrap_err().code(), "INVALID_INPUT");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    pieces: Vec<Piece>,
}

impl Template {
    /// Parses `source`, refusing unbalanced braces and empty or malformed
    /// placeholder names with [`Error::InvalidInput`].
    pub fn parse(source: &str) -> Result<Template> {
        let syntax = |at: usize, what: &str| {
            Error::invalid(
                "template",
                format!(
                    "{what} at byte {at} of {source:?} (write {{{{ and }}}} for literal braces)"
                ),
            )
        };
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = source.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.next_if(|&(_, c)| c == '{').is_some() => text.push('{'),
                '}' if chars.next_if(|&(_, c)| c == '}').is_some() => text.push('}'),
                '}' => return Err(syntax(at, "unmatched '}'")),
                '{' => {
                    let rest = &source[at + 1..];
                    let len = rest
                        .find(['{', '}'])
                        .filter(|&end| rest.as_bytes()[end] == b'}')
                        .ok_or_else(|| syntax(at, "'{' without a closing '}'"))?;
                    let name = &rest[..len];
                    if name.is_empty() {
                        return Err(syntax(at, "empty placeholder '{}'"));
                    }
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Placeholder(PayloadPath::parse(name)?));
                    // Skip the name and the closing brace.
                    for _ in 0..=name.chars().count() {
                        chars.next();
                    }
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Template {
            source: source.to_owned(),
            pieces,
        })
    }

    /// The template as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The placeholders, in order of appearance.
    ///
    /// ```
    /// use reservo::notify::Template;
    /// let t = Template::parse("{a.b} and {c}").unwrap();
    /// let names: Vec<String> = t.placeholders().map(|p| p.to_string()).collect();
    /// assert_eq!(names, ["a.b", "c"]);
    /// ```
    pub fn placeholders(&self) -> impl Iterator<Item = &PayloadPath> {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::Placeholder(path) => Some(path),
            Piece::Text(_) => None,
        })
    }

    /// Fills every placeholder from `payload`. The first placeholder without
    /// a text value is an [`Error::InvalidInput`] naming it.
    pub fn render(&self, payload: &Value) -> Result<String> {
        let mut out = String::with_capacity(self.source.len());
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Placeholder(path) => out.push_str(&path.text(payload)?),
            }
        }
        Ok(out)
    }
}

/// A message rendered for one audience, ready to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The recipient.
    pub to: PhoneNumber,
    /// The text.
    pub body: String,
}

/// The templates a notifier uses: one per (event kind, audience), and for
/// each audience the payload path of its phone number.
///
/// Event kinds are free text, so new kinds need a template, not new code.
/// An event whose kind has no template for an audience produces nothing for
/// that audience.
///
/// ```
/// use reservo::notify::{Audience, SmsTemplates};
/// let mut templates = SmsTemplates::new();
/// templates.set_recipient(Audience::Guest, "customer.phone").unwrap();
/// templates
///     .add("booking.confirmed", Audience::Guest, "Hi {customer.name}, see you soon")
///     .unwrap();
/// let payload = serde_json::json!({"customer": {"name": "Ana", "phone": "+351912345678"}});
/// let rendered = templates
///     .render("booking.confirmed", Audience::Guest, &payload)
///     .unwrap()
///     .unwrap();
/// assert_eq!(rendered.body, "Hi Ana, see you soon");
/// assert_eq!(rendered.to.as_str(), "+351912345678");
/// assert!(templates.render("booking.confirmed", Audience::Owner, &payload).is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmsTemplates {
    templates: BTreeMap<(String, Audience), Template>,
    recipients: BTreeMap<Audience, PayloadPath>,
}

impl SmsTemplates {
    /// No templates, and no recipient paths.
    pub fn new() -> SmsTemplates {
        SmsTemplates::default()
    }

    /// Reservo's default English templates for the event kinds and payload
    /// fields documented in [`crate::notify`], with recipients at
    /// `customer.phone`, `owner.phone` and `broker.phone`.
    ///
    /// ```
    /// use reservo::notify::{Audience, SmsTemplates};
    /// let templates = SmsTemplates::defaults();
    /// assert!(templates.get("booking.confirmed", Audience::Guest).is_some());
    /// ```
    pub fn defaults() -> SmsTemplates {
        let mut book = SmsTemplates::new();
        for (audience, path) in [
            (Audience::Guest, "customer.phone"),
            (Audience::Owner, "owner.phone"),
            (Audience::Broker, "broker.phone"),
        ] {
            book.set_recipient(audience, path)
                .expect("default paths are valid");
        }
        for (kind, audience, text) in super::defaults::TEMPLATES {
            book.add(kind, *audience, text)
                .expect("default templates are valid");
        }
        book
    }

    /// Says where `audience`'s phone number is in event payloads. Without a
    /// recipient path an audience gets no messages, so a
    /// [`Notifier`](super::Notifier) refuses templates for it.
    pub fn set_recipient(&mut self, audience: Audience, path: &str) -> Result<()> {
        self.recipients.insert(audience, PayloadPath::parse(path)?);
        Ok(())
    }

    /// Registers (or replaces) the template for `kind` and `audience`,
    /// checking its syntax first; bad input changes nothing.
    pub fn add(&mut self, kind: &str, audience: Audience, template: &str) -> Result<()> {
        if kind.is_empty() || kind.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::invalid(
                "event kind",
                format!("{kind:?} must be non-empty, without spaces, like booking.confirmed"),
            ));
        }
        let template = Template::parse(template)?;
        self.templates.insert((kind.to_owned(), audience), template);
        Ok(())
    }

    /// Every template with its event kind and audience, in kind order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Audience, &Template)> {
        self.templates
            .iter()
            .map(|((kind, audience), template)| (kind.as_str(), *audience, template))
    }

    /// Every audience's recipient path.
    pub fn recipients(&self) -> impl Iterator<Item = (Audience, &PayloadPath)> {
        self.recipients
            .iter()
            .map(|(audience, path)| (*audience, path))
    }

    /// Refuses, with [`Error::InvalidInput`] naming it, the first template
    /// for an audience that has no recipient path: its messages could
    /// never be addressed, and would be dropped without a trace.
    pub(super) fn check_recipients(&self) -> Result<()> {
        let unaddressed = self
            .templates
            .keys()
            .find(|(_, audience)| !self.recipients.contains_key(audience));
        match unaddressed {
            Some((kind, audience)) => Err(Error::invalid(
                format!("template {kind} for {}", audience.as_str()),
                format!(
                    "the {} has no recipient path: call set_recipient first",
                    audience.as_str()
                ),
            )),
            None => Ok(()),
        }
    }

    /// The template for `kind` and `audience`, if any.
    pub fn get(&self, kind: &str, audience: Audience) -> Option<&Template> {
        self.templates.get(&(kind.to_owned(), audience))
    }

    /// The message for `audience` about an event of `kind`:
    ///
    /// * `None` when there is no template for them, no recipient path, or
    ///   no phone number at that path (a booking without a broker);
    /// * `Some(Err)` with [`Error::InvalidInput`] when the phone number is
    ///   not E.164 or a placeholder has no value;
    /// * `Some(Ok)` otherwise.
    pub fn render(
        &self,
        kind: &str,
        audience: Audience,
        payload: &Value,
    ) -> Option<Result<Rendered>> {
        let template = self.get(kind, audience)?;
        let phone_path = self.recipients.get(&audience)?;
        let phone = phone_path.lookup(payload)?;
        Some(render_for(template, phone_path, phone, payload))
    }
}

fn render_for(
    template: &Template,
    phone_path: &PayloadPath,
    phone: &Value,
    payload: &Value,
) -> Result<Rendered> {
    let to = match phone {
        Value::String(number) => PhoneNumber::parse(number).map_err(|e| match e {
            Error::InvalidInput { message, .. } => message,
            other => other.to_string(),
        }),
        other => Err(format!("{other} is not a text value")),
    }
    .map_err(|message| Error::invalid(format!("recipient {phone_path}"), message))?;
    Ok(Rendered {
        to,
        body: template.render(payload)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn templates_rebuilt_from_their_listing_are_equal() {
        let defaults = SmsTemplates::defaults();
        let mut rebuilt = SmsTemplates::new();
        for (audience, path) in defaults.recipients() {
            rebuilt.set_recipient(audience, &path.to_string()).unwrap();
        }
        assert_ne!(rebuilt, defaults);
        for (kind, audience, template) in defaults.iter() {
            rebuilt.add(kind, audience, template.source()).unwrap();
        }
        assert_eq!(rebuilt, defaults);
        assert_eq!(defaults.recipients().count(), 3);
    }

    #[test]
    fn template_syntax_errors_are_invalid_input() {
        for bad in [
            "{", "a}", "{a", "{}", "{a{b}}", "{a..b}", "{ a }", "{.a}", "x}y",
        ] {
            let err = Template::parse(bad).unwrap_err();
            assert_eq!(err.code(), "INVALID_INPUT", "{bad:?} should be refused");
        }
    }

    #[test]
    fn doubled_braces_are_literal_and_text_keeps_unicode() {
        let t = Template::parse("Olá {{{name}}} — {n}€").unwrap();
        let out = t.render(&json!({"name": "Zé", "n": 12.5})).unwrap();
        assert_eq!(out, "Olá {Zé} — 12.5€");
    }

    #[test]
    fn render_names_the_missing_placeholder() {
        let t = Template::parse("{a} {b.c}").unwrap();
        let err = t.render(&json!({"a": 1, "b": {"c": null}})).unwrap_err();
        assert!(err.to_string().contains("{b.c}"), "{err}");
        let err = t
            .render(&json!({"a": 1, "b": {"c": {"d": 1}}}))
            .unwrap_err();
        assert!(err.to_string().contains("{b.c}"), "{err}");
    }

    #[test]
    fn numeric_segments_index_arrays_and_booleans_render() {
        let t = Template::parse("{xs.1} {ok}").unwrap();
        assert_eq!(
            t.render(&json!({"xs": [1, 2], "ok": true})).unwrap(),
            "2 true"
        );
    }

    #[test]
    fn audience_without_phone_gets_nothing_and_bad_phone_is_an_error() {
        let templates = SmsTemplates::defaults();
        let payload = json!({"customer": {"phone": "0912 345"}, "booking": {"id": "b"}});
        assert!(
            templates
                .render("booking.confirmed", Audience::Broker, &payload)
                .is_none()
        );
        let err = templates
            .render("booking.confirmed", Audience::Guest, &payload)
            .unwrap()
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT");
        assert!(err.to_string().contains("customer.phone"), "{err}");
    }

    #[test]
    fn bad_template_or_kind_changes_nothing() {
        let mut templates = SmsTemplates::new();
        templates.add("k", Audience::Guest, "one").unwrap();
        assert!(templates.add("k", Audience::Guest, "{oops").is_err());
        assert!(templates.add("", Audience::Guest, "x").is_err());
        assert!(templates.add("a b", Audience::Guest, "x").is_err());
        assert_eq!(templates.get("k", Audience::Guest).unwrap().source(), "one");
    }
}

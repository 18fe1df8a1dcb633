//! One decoded event, and its canonical encoding.

use std::borrow::Cow;

use bytes::Bytes;

/// A dispatched Server-Sent Event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, or `"message"` when the event had none.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The `id:` field of this event, if it had one.
    pub id: Option<String>,
    /// The `retry:` field of this event, if it had a valid one.
    pub retry: Option<u64>,
}

impl SseEvent {
    /// An event with a type and data, and no `id` or `retry`.
    pub fn new(event: impl Into<String>, data: impl Into<String>) -> Self {
        Self {
            event: event.into(),
            data: data.into(),
            id: None,
            retry: None,
        }
    }

    /// The event in canonical form: `event:`, then `id:` and `retry:` when
    /// present, then one `data:` line per line of data, then a blank line.
    ///
    /// Data lines are split at `\r\n`, `\r` and `\n` (a reader joins them back
    /// with `\n`). Line breaks inside the event type or id are dropped, as
    /// they cannot be represented and would break the framing.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = String::with_capacity(self.event.len() + self.data.len() + 32);
        push_field(&mut out, "event", &single_line(&self.event));
        if let Some(id) = &self.id {
            push_field(&mut out, "id", &single_line(id));
        }
        if let Some(retry) = self.retry {
            push_field(&mut out, "retry", &retry.to_string());
        }
        for line in lines(&self.data) {
            push_field(&mut out, "data", line);
        }
        out.push('\n');
        Bytes::from(out)
    }
}

fn push_field(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push_str(": ");
    out.push_str(value);
    out.push('\n');
}

fn single_line(text: &str) -> Cow<'_, str> {
    if text.contains(['\r', '\n']) {
        Cow::Owned(text.replace(['\r', '\n'], ""))
    } else {
        Cow::Borrowed(text)
    }
}

/// The lines of `text`; `n` terminators always give `n + 1` lines, so empty
/// data and trailing newlines survive a round trip.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.find(['\r', '\n']) {
            Some(end) => {
                let after = if current[end..].starts_with("\r\n") {
                    end + 2
                } else {
                    end + 1
                };
                rest = Some(&current[after..]);
                Some(&current[..end])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_has_one_data_line_per_line() {
        let event = SseEvent::new("content_block_delta", "line1\nline2");
        assert_eq!(
            event.to_bytes(),
            "event: content_block_delta\ndata: line1\ndata: line2\n\n"
        );
    }

    #[test]
    fn id_and_retry_are_written_when_present() {
        let event = SseEvent {
            id: Some("7".into()),
            retry: Some(1500),
            ..SseEvent::new("ping", "{}")
        };
        assert_eq!(
            event.to_bytes(),
            "event: ping\nid: 7\nretry: 1500\ndata: {}\n\n"
        );
    }

    #[test]
    fn empty_data_and_trailing_newlines_are_kept() {
        assert_eq!(SseEvent::new("e", "").to_bytes(), "event: e\ndata: \n\n");
        assert_eq!(
            SseEvent::new("e", "a\r\nb\r\n").to_bytes(),
            "event: e\ndata: a\ndata: b\ndata: \n\n"
        );
    }

    #[test]
    fn line_breaks_cannot_escape_the_type_or_id() {
        let event = SseEvent {
            id: Some("1\n\ndata: injected".into()),
            ..SseEvent::new("a\r\nb", "x")
        };
        assert_eq!(
            event.to_bytes(),
            "event: ab\nid: 1data: injected\ndata: x\n\n"
        );
    }
}

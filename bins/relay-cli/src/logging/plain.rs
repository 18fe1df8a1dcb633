//! Log formatting at a fraction of tracing-subscriber's default cost: the
//! `pretty` format's fields (`name=value` pairs, as the default writes them)
//! and, for both formats, the timestamp.
//!
//! The default formatter renders every string field through `Debug`
//! (escaping it character by character) and wraps every field name in an
//! ANSI style even when colours are off. With the access log's two dozen
//! fields that made the `request finished` line the largest single cost of a
//! relayed request (callgrind: about 32k instructions of a small request's
//! ~190k). Here a string is written as it is unless it needs quotes to stay
//! one unambiguous token, and numbers are written directly.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

/// `name=value` fields; `message` first-class, without a name.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlainFields;

impl<'writer> FormatFields<'writer> for PlainFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = PlainVisitor {
            writer,
            separate: false,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

/// RFC 3339 UTC timestamps with microseconds, as tracing-subscriber's
/// default writes them, without its `core::fmt` call per component.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rfc3339Micros;

impl FormatTime for Rfc3339Micros {
    fn format_time(&self, writer: &mut Writer<'_>) -> fmt::Result {
        // humantime renders the digits into a byte buffer and writes it once.
        let now = humantime::format_rfc3339_micros(std::time::SystemTime::now());
        write!(writer, "{now}")
    }
}

struct PlainVisitor<'writer> {
    writer: Writer<'writer>,
    /// A field was written: the next one needs a space before it.
    separate: bool,
    result: fmt::Result,
}

impl PlainVisitor<'_> {
    fn field(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        let name = field.name();
        // `log` crate records bridged by tracing-log carry these; the
        // default formatter hides them too.
        if name.starts_with("log.") {
            return;
        }
        let writer = &mut self.writer;
        let separate = std::mem::replace(&mut self.separate, true);
        self.result = (|| {
            if separate {
                writer.write_char(' ')?;
            }
            if name != "message" {
                writer.write_str(name.strip_prefix("r#").unwrap_or(name))?;
                writer.write_char('=')?;
            }
            value(writer)
        })();
    }
}

impl Visit for PlainVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        let message = field.name() == "message";
        self.field(field, |w| {
            if message || !needs_quotes(value) {
                w.write_str(value)
            } else {
                write!(w, "{value:?}")
            }
        });
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.field(field, |w| w.write_str(itoa::Buffer::new().format(value)));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.field(field, |w| w.write_str(itoa::Buffer::new().format(value)));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        // ryu's shortest form is Display's for finite values ("1.5", "0.25",
        // but "1.0" where Display writes "1"): same value, a tenth the cost.
        self.field(field, |w| w.write_str(ryu::Buffer::new().format(value)));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.field(field, |w| w.write_str(if value { "true" } else { "false" }));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.field(field, |w| write!(w, "{value}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `%value` fields arrive here as Display wrappers, and `message` as
        // `fmt::Arguments`, whose Debug is their Display: unquoted, as before.
        self.field(field, |w| write!(w, "{value:?}"));
    }
}

/// Whether a string field must be quoted (and escaped) to read back as one
/// token: empty, or holding spaces, control characters, quotes, `=` or `\`.
fn needs_quotes(value: &str) -> bool {
    value.is_empty()
        || value
            .bytes()
            .any(|b| b <= b' ' || matches!(b, b'"' | b'=' | b'\\' | 0x7f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::fmt::MakeWriter;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    fn logged(emit: impl FnOnce()) -> String {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(captured.clone())
            .fmt_fields(PlainFields)
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        let bytes = captured.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn fields_read_back_as_name_value_tokens() {
        let line = logged(|| {
            let span = tracing::info_span!("request", id = %"req-1");
            let _entered = span.enter();
            tracing::info!(
                provider = "primary",
                model = "",
                note = "two words",
                quote = "a\"b",
                status = 200u16,
                delta = -3i64,
                duration_ms = 1.5f64,
                stream = true,
                failovers = %"timeout,429",
                "request finished"
            );
        });
        assert_eq!(
            line.trim(),
            r#"INFO request{id=req-1}: request finished provider=primary model="" note="two words" quote="a\"b" status=200 delta=-3 duration_ms=1.5 stream=true failovers=timeout,429"#
        );
    }

    #[test]
    fn control_characters_cannot_forge_a_line() {
        let line = logged(|| tracing::warn!(path = "/v1/x\nINFO forged", "odd path"));
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(line.contains(r#"path="/v1/x\nINFO forged""#), "{line}");
    }
}

//! The fuzzing entry point for the event-stream-to-SSE converter, shared by
//! the proptest suite (run by CI) and the `cargo fuzz` target in `fuzz/`
//! (run by hand).

use bytes::Bytes;

use super::eventstream::BedrockStreamDecoder;
use crate::decoder::ResponseDecoder;

/// What one run produced: every byte the decoder let through, and whether it
/// reported an error (the relay would then end the stream with an error event).
#[derive(Debug, PartialEq, Eq)]
pub struct FuzzOutcome {
    pub output: String,
    pub failed: bool,
}

/// Feeds `input` to a fresh decoder, cut at `cuts` (positions, any order,
/// out-of-range ones ignored), the way the relay would, and checks the
/// decoder's contract: every piece of output is whole SSE events with a JSON
/// `data` line; an error is final. Returns what was produced, or which
/// invariant broke.
pub fn event_stream_case(input: &[u8], cuts: &[usize]) -> Result<FuzzOutcome, String> {
    let mut points: Vec<usize> = cuts.iter().copied().filter(|c| *c < input.len()).collect();
    points.sort_unstable();
    points.dedup();
    let mut decoder = BedrockStreamDecoder::new();
    let mut outcome = FuzzOutcome {
        output: String::new(),
        failed: false,
    };
    let mut start = 0;
    for end in points.into_iter().chain(std::iter::once(input.len())) {
        let chunk = Bytes::copy_from_slice(&input[start..end]);
        start = end;
        match decoder.decode(chunk) {
            Ok(bytes) => check_events(&bytes, &mut outcome.output)?,
            Err(_) => {
                outcome.failed = true;
                if decoder.decode(Bytes::from_static(b"more")).is_ok() {
                    return Err("the decoder accepted input after an error".to_owned());
                }
                return Ok(outcome);
            }
        }
    }
    match decoder.finish() {
        Ok(bytes) => check_events(&bytes, &mut outcome.output)?,
        Err(_) => outcome.failed = true,
    }
    Ok(outcome)
}

/// Checks that `bytes` is zero or more whole `event: NAME\ndata: JSON\n\n` events.
fn check_events(bytes: &[u8], output: &mut String) -> Result<(), String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "output is not UTF-8".to_owned())?;
    if text.is_empty() {
        return Ok(());
    }
    let Some(body) = text.strip_suffix("\n\n") else {
        return Err(format!("output does not end with a whole event: {text:?}"));
    };
    for event in body.split("\n\n") {
        let mut lines = event.split('\n');
        let (Some(name), Some(data), None) = (lines.next(), lines.next(), lines.next()) else {
            return Err(format!("malformed event: {event:?}"));
        };
        let name = name
            .strip_prefix("event: ")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| format!("bad event line: {name:?}"))?;
        let data = data
            .strip_prefix("data: ")
            .ok_or_else(|| format!("bad data line: {data:?}"))?;
        let value: serde_json::Value =
            serde_json::from_str(data).map_err(|_| format!("data is not JSON: {data:?}"))?;
        if name != "error" && value.get("type").and_then(|t| t.as_str()) != Some(name) {
            return Err(format!(
                "event name {name:?} does not match its data's type"
            ));
        }
    }
    output.push_str(text);
    Ok(())
}

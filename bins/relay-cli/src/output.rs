//! Terminal output. The workspace denies `println!` so libraries never print;
//! in this binary, talking to the user is the job, and it goes through here.

use std::io::Write;

/// A line on stdout: results a user or script reads.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// A line on stderr: errors and notes.
pub fn complain(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

//! Prints the local `count_tokens` estimate of a request body file:
//! `cargo run -p relay-core --example estimate_tokens -- FILE`.

#[allow(clippy::print_stdout, reason = "an example prints its answer")]
fn main() -> std::io::Result<()> {
    let path = std::env::args().nth(1).unwrap_or_default();
    let body = std::fs::read(&path)?;
    match relay_core::estimate_input_tokens(&body) {
        Some(tokens) => println!("{tokens}"),
        None => println!("{path}: not a JSON object"),
    }
    Ok(())
}

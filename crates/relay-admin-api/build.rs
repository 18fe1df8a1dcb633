//! With the `grpc` feature: compiles proto/ccrelay/admin/v1/admin.proto with
//! protox (pure Rust, no system `protoc`) and generates the tonic client,
//! server trait and prost messages, plus the descriptor set that gRPC
//! reflection serves.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os("CARGO_FEATURE_GRPC").is_none() {
        return Ok(());
    }
    #[cfg(feature = "grpc")]
    generate()?;
    Ok(())
}

#[cfg(feature = "grpc")]
fn generate() -> Result<(), Box<dyn std::error::Error>> {
    const PROTO: &str = "proto/ccrelay/admin/v1/admin.proto";
    println!("cargo:rerun-if-changed={PROTO}");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    let descriptors = protox::compile([PROTO], ["proto"])?;
    std::fs::write(
        out.join("ccrelay_admin_v1_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    tonic_prost_build::configure()
        .build_transport(false)
        .compile_fds(descriptors)?;
    Ok(())
}

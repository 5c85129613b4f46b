//! Compiles the .proto files with protox (pure Rust: no system `protoc` needed) and generates the
//! Rust messages and tonic stubs. Server code is generated only with the `server` feature so that
//! the wasm extension can use the client stubs alone.
use std::{env, error::Error, path::PathBuf};

use prost::Message;

const PROTOS: &[&str] = &[
    "beckon/invite/v1/invite.proto",
    "beckon/notify/v1/notify.proto",
];

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed=proto");
    let descriptors = protox::compile(PROTOS, ["proto"])?;
    // Served by gRPC reflection, so grpcurl and Postman work without the .proto files. Each
    // service describes its own package only (with the files it imports), not the other's.
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    for (package, file_name) in [
        ("beckon.invite.v1", "invite_descriptor.bin"),
        ("beckon.notify.v1", "notify_descriptor.bin"),
    ] {
        let mut own = descriptors.clone();
        own.file
            .retain(|file| !file.package().starts_with("beckon.") || file.package() == package);
        std::fs::write(out_dir.join(file_name), own.encode_to_vec())?;
    }
    tonic_prost_build::configure()
        .build_server(env::var_os("CARGO_FEATURE_SERVER").is_some())
        .build_transport(env::var_os("CARGO_FEATURE_TRANSPORT").is_some())
        .compile_fds(descriptors)?;
    Ok(())
}

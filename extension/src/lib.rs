//! The Beckon Chrome extension's logic. The browser-independent parts (messages, share links,
//! QR codes, error explanations, field and selection rules) are plain Rust tested on the host;
//! `browser` wires them to JavaScript and makes the gRPC-web calls, and exists only in the wasm
//! build.
pub mod errors;
pub mod field;
pub mod form;
pub mod invites;
pub mod qr;
pub mod recent;
pub mod selection;
pub mod settings;
pub mod share;

#[cfg(target_arch = "wasm32")]
mod browser;

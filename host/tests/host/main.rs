//! The host library's integration tests, one binary (linking wasmtime once), by theme.

mod bad_input;
mod bcrypt;
mod dynamodb;
mod glibc;
mod loading;
mod meter;
mod pbkdf2;
mod support;

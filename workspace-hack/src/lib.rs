//! Nothing to call: this crate exists for its `Cargo.toml`, which asks for the union of the
//! features the workspace's packages want from shared dependencies, so that the command,
//! xtask and the tests compile each dependency once (see the manifest's comment). It must
//! never hold code: a dependency here is one every build pays for.

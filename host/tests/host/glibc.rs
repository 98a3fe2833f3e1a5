//! The `bootstrap` this machine builds must run on Amazon Linux 2023 (`provided.al2023`),
//! whose glibc is 2.34: no dynamic symbol may need a newer `GLIBC_` version. Checks the
//! binary cargo built for these tests; `cargo xtask package` applies the same rule to the zip.

/// Amazon Linux 2023's glibc.
const AL2023_GLIBC: (u32, u32) = (2, 34);

#[test]
fn bootstrap_needs_no_glibc_newer_than_amazon_linux_2023() {
    let bootstrap = std::path::Path::new(env!("CARGO_BIN_EXE_bootstrap"));
    let newer = powersweep_test_support::glibc_symbols_newer_than(bootstrap, AL2023_GLIBC)
        .unwrap_or_else(|e| panic!("{:#}", anyhow::Error::new(e)));
    assert!(
        newer.is_empty(),
        "{} needs a glibc newer than 2.34 (Amazon Linux 2023) for: {newer:?}; build with \
         `cargo zigbuild --target x86_64-unknown-linux-gnu.2.34` (pip install cargo-zigbuild ziglang)",
        bootstrap.display()
    );
}

#[test]
fn the_check_sees_versioned_glibc_symbols() {
    // Guards the check itself: with a ceiling of 2.0 every glibc import is "too new", so an
    // empty answer would mean the version table was not read at all.
    let bootstrap = std::path::Path::new(env!("CARGO_BIN_EXE_bootstrap"));
    let newer = powersweep_test_support::glibc_symbols_newer_than(bootstrap, (2, 0))
        .unwrap_or_else(|e| panic!("{:#}", anyhow::Error::new(e)));
    assert!(
        newer
            .iter()
            .any(|(name, _)| name == "malloc" || name == "memcpy"),
        "expected libc imports, got {newer:?}"
    );
}

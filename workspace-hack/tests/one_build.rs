//! The command (`cargo run --release`), xtask (`cargo xtask`) and the tests (`cargo test
//! --workspace`) must ask for the same features of every dependency they share, or switching
//! between them recompiles wasmtime and cranelift (minutes). This asks cargo itself what each
//! selection resolves to; it does not build anything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// Package (name, version, source) → its enabled features, as `cargo tree` resolves them.
type Features = BTreeMap<String, BTreeSet<String>>;

fn resolve(selection: &[&str]) -> Features {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(root)
        .args([
            "tree",
            "--locked",
            "--edges",
            "normal,build",
            "--prefix",
            "none",
        ])
        .args(["--format", "{p}|{f}"])
        .args(selection)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree {selection:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut features = Features::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        // `(*)` marks a package shown before; its features are the same.
        let line = line.replace(" (*)", "");
        let Some((package, list)) = line.split_once('|') else {
            continue;
        };
        features
            .entry(package.trim().to_owned())
            .or_default()
            .extend(
                list.split(',')
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned),
            );
    }
    features
}

/// For each package in more than one selection with different features: what each lacks.
fn differences(selections: &[(&str, Features)]) -> Vec<String> {
    let packages: BTreeSet<&String> = selections.iter().flat_map(|(_, f)| f.keys()).collect();
    let mut found = Vec::new();
    for package in packages {
        let sets: Vec<(&str, &BTreeSet<String>)> = selections
            .iter()
            .filter_map(|(name, f)| f.get(package).map(|set| (*name, set)))
            .collect();
        let union: BTreeSet<&String> = sets.iter().flat_map(|(_, set)| set.iter()).collect();
        let lacking: Vec<String> = sets
            .iter()
            .filter(|(_, set)| set.len() < union.len())
            .map(|(name, set)| {
                let missing: Vec<&str> = union
                    .iter()
                    .filter(|f| !set.contains(**f))
                    .map(|f| f.as_str())
                    .collect();
                format!("{name} lacks {missing:?}")
            })
            .collect();
        if !lacking.is_empty() {
            found.push(format!("{package}: {}", lacking.join("; ")));
        }
    }
    found
}

#[test]
fn the_command_xtask_and_the_tests_share_one_build_of_every_dependency() {
    let selections = [
        ("`cargo run --release`", resolve(&["-p", "powersweep-cli"])),
        ("`cargo xtask`", resolve(&["-p", "xtask"])),
        (
            "`cargo test --workspace`",
            resolve(&["--workspace", "--edges", "dev"]),
        ),
    ];
    let found = differences(&selections);
    assert!(
        found.is_empty(),
        "these dependencies would be compiled once per selection; ask for the union of their \
         features in workspace-hack/Cargo.toml (or the workspace's dependency):\n{}",
        found.join("\n")
    );
}

#[test]
fn a_feature_one_selection_lacks_is_reported() {
    let set = |features: &[&str]| -> Features {
        [(
            "crc32fast v1.5.5".to_owned(),
            features.iter().map(|f| (*f).to_owned()).collect(),
        )]
        .into()
    };
    let found = differences(&[
        ("a", set(&["std"])),
        ("b", set(&[])),
        ("c", Features::new()),
    ]);
    assert_eq!(found, [r#"crc32fast v1.5.5: b lacks ["std"]"#]);
    assert!(differences(&[("a", set(&["std"])), ("b", set(&["std"]))]).is_empty());
}

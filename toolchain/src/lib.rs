//! Turns a workload project into a WebAssembly component that implements
//! `guests/wit/workload.wit`, in the language it is written in:
//! - **Rust** ([`rust`]): rustup's `wasm32-wasip2` target where it is installed, else Debian's
//!   `rustc-web` with `-Z build-std` for `wasm32-wasip1` and the WASI reactor adapter;
//! - **Python** ([`python`]): `componentize-py` (PyPI), which bundles CPython;
//! - **JavaScript** ([`js`]): esbuild bundles the project, `componentize-js` (npm) wraps it
//!   with StarlingMonkey.
//!
//! It owns finding each toolchain and running it; a missing tool is one line naming how to
//! install it. It must not know how the host runs components (that is `powersweep-host`).

use std::path::{Path, PathBuf};

mod error;
pub mod js;
pub mod python;
pub mod rust;
mod tool;

pub use error::BuildError;
pub use tool::on_path;

/// The languages a workload project can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// A cargo project (`Cargo.toml`).
    Rust,
    /// `app.py` beside the WIT.
    Python,
    /// `app.js` and `package.json`.
    Js,
}

impl Language {
    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::Js => "js",
        }
    }

    /// The language of the project in `dir`, told by its files.
    ///
    /// # Errors
    /// [`BuildError::NotAProject`] when none of `Cargo.toml`, `app.py`, `package.json` is there.
    pub fn of(dir: &Path) -> Result<Language, BuildError> {
        if dir.join("Cargo.toml").is_file() {
            Ok(Language::Rust)
        } else if dir.join("app.py").is_file() {
            Ok(Language::Python)
        } else if dir.join("package.json").is_file() {
            Ok(Language::Js)
        } else {
            Err(BuildError::NotAProject {
                dir: dir.to_path_buf(),
            })
        }
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Builds the project in `dir` (its WIT in `dir/wit`) and writes the component to `out`.
///
/// # Errors
/// A [`BuildError`] naming the missing tool, the failed step with the end of its output, or
/// the file that could not be read or written.
pub fn build(dir: &Path, out: &Path) -> Result<Language, BuildError> {
    let language = Language::of(dir)?;
    // Rust projects name their WIT in Cargo.toml; the others read it from `wit/`, and their
    // tools' own error for a missing one names a function of theirs, not the folder.
    let lang = match language {
        Language::Rust => None,
        Language::Python => Some("python"),
        Language::Js => Some("js"),
    };
    if let Some(lang) = lang
        && !dir.join("wit").is_dir()
    {
        return Err(BuildError::NoContract {
            dir: dir.to_path_buf(),
            lang,
        });
    }
    let component = match language {
        Language::Rust => rust::build_project(dir)?,
        Language::Python => python::build(dir)?,
        Language::Js => js::build(dir)?,
    };
    std::fs::write(out, component).map_err(|source| BuildError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    Ok(language)
}

/// Reads a file, naming it when it cannot be read.
fn read(path: PathBuf) -> Result<Vec<u8>, BuildError> {
    std::fs::read(&path).map_err(|source| BuildError::Io { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_python_or_javascript_project_without_its_contract_is_named() {
        for (file, lang) in [("app.py", "python"), ("package.json", "js")] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(file), "").unwrap();
            let err = build(dir.path(), &dir.path().join("out.wasm")).unwrap_err();
            assert!(
                matches!(err, BuildError::NoContract { lang: l, .. } if l == lang),
                "{err}"
            );
            assert!(err.to_string().contains("has no `wit/` folder"), "{err}");
        }
    }
}

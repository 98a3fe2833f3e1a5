//! Why a workload could not be built. Each variant is one line for the user: the tool to
//! install, the step that failed with the end of its output, or the file at fault.

use std::path::PathBuf;

/// A failed build.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The folder holds no project of a known language.
    #[error(
        "`{dir}` is not a workload project: it has no Cargo.toml (Rust), app.py (Python) or package.json (JavaScript); `powersweep new NAME --lang rust|python|js` makes one"
    )]
    NotAProject {
        /// The folder.
        dir: PathBuf,
    },
    /// A Python or JavaScript project without the WIT contract it is built against.
    #[error(
        "`{}` has no `wit/` folder: the workload contract the component is built against (`powersweep new NAME --lang {lang}` writes it; copy it from there)",
        dir.display()
    )]
    NoContract {
        /// The project folder.
        dir: PathBuf,
        /// `python` or `js`, as `powersweep new --lang` names it.
        lang: &'static str,
    },
    /// A tool the language needs is not installed.
    #[error("{tool} is not installed: {install}")]
    Missing {
        /// The tool.
        tool: &'static str,
        /// How to install it.
        install: &'static str,
    },
    /// A step ran and failed.
    #[error("{step} failed ({status}): {output}")]
    Failed {
        /// The command, in a few words.
        step: String,
        /// Its exit status.
        status: String,
        /// The last lines it printed, joined.
        output: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A core module could not be wrapped into a component.
    #[error("cannot make a component of `{}`: {source:#}", path.display())]
    Componentize {
        /// The core module.
        path: PathBuf,
        /// wit-component's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

//! `powersweep new NAME --lang rust|python|js`: a workload project from a template, in the
//! style of `cargo lambda new`: the WIT contract, a job with `plan` and `run` (counting
//! primes, to be replaced), a test of the job that runs natively, and a README with the build
//! command. Must not build anything (`powersweep build` does).

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The languages `new` and `build` know.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// A cargo project with wit-bindgen.
    Rust,
    /// componentize-py (PyPI).
    Python,
    /// componentize-js (npm).
    Js,
}

/// Flags of `powersweep new`.
#[derive(clap::Args)]
pub struct Args {
    /// The workload's name: its folder and, built, `NAME.wasm` (lowercase letters, digits, `-`).
    name: String,
    /// The language to write it in.
    #[arg(long, value_enum)]
    lang: Lang,
    /// Where to create the folder NAME (default: here).
    #[arg(long, default_value = ".")]
    dir: PathBuf,
}

/// The contract every workload implements, as the host expects it.
const WIT: &str = include_str!("../../../guests/wit/workload.wit");

/// A template's files: path in the project, text with `{{name}}`, `{{lang}}`, `{{test}}`.
type Files = &'static [(&'static str, &'static str)];

const RUST: Files = &[
    (
        "Cargo.toml",
        include_str!("../../templates/rust/Cargo.toml"),
    ),
    (
        "src/lib.rs",
        include_str!("../../templates/rust/src/lib.rs"),
    ),
    (
        "src/job.rs",
        include_str!("../../templates/rust/src/job.rs"),
    ),
    ("README.md", include_str!("../../templates/rust/README.md")),
];
const PYTHON: Files = &[
    ("app.py", include_str!("../../templates/python/app.py")),
    ("job.py", include_str!("../../templates/python/job.py")),
    (
        "test_job.py",
        include_str!("../../templates/python/test_job.py"),
    ),
    (
        "README.md",
        include_str!("../../templates/python/README.md"),
    ),
];
const JS: Files = &[
    (
        "package.json",
        include_str!("../../templates/js/package.json"),
    ),
    ("app.js", include_str!("../../templates/js/app.js")),
    ("job.js", include_str!("../../templates/js/job.js")),
    (
        "job.test.js",
        include_str!("../../templates/js/job.test.js"),
    ),
    ("README.md", include_str!("../../templates/js/README.md")),
];

impl Lang {
    fn files(self) -> Files {
        match self {
            Lang::Rust => RUST,
            Lang::Python => PYTHON,
            Lang::Js => JS,
        }
    }

    /// The command that runs the job's tests natively.
    fn test_command(self) -> &'static str {
        match self {
            Lang::Rust => "cargo test",
            Lang::Python => "python3 -m unittest",
            Lang::Js => "node --test",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Lang::Rust => "Rust",
            Lang::Python => "Python",
            Lang::Js => "JavaScript",
        }
    }
}

/// Fails unless `name` is a workload name: a file name in every guests folder, and a cargo
/// package name.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        bail!(
            "`{name}` is not a workload name: 1 to 64 lowercase letters, digits and `-`, starting with a letter"
        );
    }
    Ok(())
}

pub async fn run(args: Args) -> Result<ExitCode> {
    check_name(&args.name)?;
    let project = args.dir.join(&args.name);
    if project.exists() {
        bail!(
            "`{}` exists already; choose another name or --dir",
            project.display()
        );
    }
    write(&project, &args.name, args.lang)?;
    println!(
        "created {} ({}); next:\n  {}   # in {}\n  powersweep build {}",
        project.display(),
        args.lang.name(),
        args.lang.test_command(),
        project.display(),
        project.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes the template of `lang` for `name` into `project`.
fn write(project: &Path, name: &str, lang: Lang) -> Result<()> {
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{lang}}", lang.name())
            .replace("{{test}}", lang.test_command())
    };
    let mut files: Vec<(&str, String)> = lang
        .files()
        .iter()
        .map(|(path, text)| (*path, fill(text)))
        .collect();
    files.push(("wit/workload.wit", WIT.to_owned()));
    for (path, text) in files {
        let path = project.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create `{}`", parent.display()))?;
        }
        std::fs::write(&path, text)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped Python and JavaScript PBKDF2 guests bind the world with the templates'
    /// own `app` file (a symlink would break esbuild's bundling): a change to one must reach
    /// the other.
    #[test]
    fn the_shipped_guests_bind_the_world_as_the_templates_do() {
        let guests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../guests");
        for (lang, guest, app) in [
            (Lang::Python, "pbkdf2-py", "app.py"),
            (Lang::Js, "pbkdf2-js", "app.js"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            write(dir.path(), guest, lang).unwrap();
            let made = std::fs::read_to_string(dir.path().join(app)).unwrap();
            let shipped = std::fs::read_to_string(guests.join(guest).join(app)).unwrap();
            assert_eq!(
                made, shipped,
                "guests/{guest}/{app} differs from its template"
            );
            let wit = std::fs::read_to_string(guests.join(guest).join("wit/workload.wit"));
            assert_eq!(wit.unwrap(), WIT, "guests/{guest}/wit is not the contract");
        }
    }

    #[test]
    fn names_are_file_and_package_names() {
        for good in ["primes", "my-job-2"] {
            check_name(good).unwrap();
        }
        for bad in ["", "Primes", "2fast", "a b", "a_b", "../x", &"a".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_template_is_filled_and_carries_the_contract() {
        let dir = tempfile::tempdir().unwrap();
        for lang in [Lang::Rust, Lang::Python, Lang::Js] {
            let project = dir
                .path()
                .join(format!("job-{}", lang.name().to_lowercase()));
            write(&project, "my-job", lang).unwrap();
            let wit = std::fs::read_to_string(project.join("wit/workload.wit")).unwrap();
            assert!(wit.contains("world workload"));
            for (path, _) in lang.files() {
                let text = std::fs::read_to_string(project.join(path)).unwrap();
                assert!(!text.contains("{{"), "{path}: {text}");
            }
            // The toolchain recognizes what it made.
            let language = powersweep_toolchain::Language::of(&project).unwrap();
            assert_eq!(language.as_str(), format!("{lang:?}").to_lowercase());
        }
    }
}

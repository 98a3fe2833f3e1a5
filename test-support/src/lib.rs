//! Support shared by powersweep's tests: where the workspace and the built guests are, and a
//! `moto_server` (DynamoDB, Step Functions) on 127.0.0.1 for tests that need AWS.
//!
//! Test-only: nothing here may be used by shipped code.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The workspace root: the nearest folder holding a `[workspace]` manifest above the package
/// under test (`CARGO_MANIFEST_DIR`, which cargo sets when it runs a test), else above this
/// library's own source.
///
/// Why not only this library's compile-time path: the library is built once into a shared
/// target directory and reused as long as its sources look unchanged, so a checkout elsewhere
/// (a CI clone, say) would get the path of whichever checkout built it first, and its tests
/// would quietly read that checkout's files.
pub fn root() -> PathBuf {
    let is_root = |dir: &std::path::Path| {
        std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|m| m.contains("[workspace]"))
    };
    let built_here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain([built_here.clone()])
        .find_map(|start| start.ancestors().find(|d| is_root(d)).map(PathBuf::from))
        .unwrap_or_else(|| built_here.join(".."))
}

/// `guests/dist`, where the built components are committed.
pub fn guests_dir() -> PathBuf {
    root().join("guests/dist")
}

/// Says loudly that `test` cannot run here because `why`, so the caller can return. Under
/// `CI=true` it panics instead: CI installs every prerequisite, and a skipped test there would
/// pass a check that never ran.
///
/// # Panics
/// Under `CI=true`.
pub fn prerequisite_missing(test: &str, why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: {why}, and CI=true: CI must provide it");
    }
    // Straight to stderr: libtest captures `eprintln!`, and a skip must be seen.
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "\n!!!!! SKIPPED {test}: {why} !!!!!\n");
}

/// The URL of a moto server for this test process: `POWERSWEEP_MOTO_URL` if set (CI starts
/// one), else one started here on a free port that dies with this process.
///
/// # Panics
/// When moto is neither given nor installed: a test that needs it must fail, not pass.
pub fn moto_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("POWERSWEEP_MOTO_URL") {
            return url;
        }
        let port = free_port();
        // PR_SET_PDEATHSIG fires when the *thread* that spawned the child ends, and test
        // threads end with their test: spawn moto from a thread that lives as long as the
        // process, so moto dies with the process and not before.
        let (started, ready) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let child = start_moto(port);
            let _ = started.send(());
            let _keep = child;
            loop {
                std::thread::park();
            }
        });
        let _ = ready.recv();
        let url = format!("http://127.0.0.1:{port}");
        wait_for_port(port);
        url
    })
}

fn start_moto(port: u16) -> Child {
    let mut cmd = Command::new("moto_server");
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: prctl is async-signal-safe; it only asks the kernel to kill the child with us.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    cmd.spawn().unwrap_or_else(|e| {
        panic!("cannot start moto_server ({e}): install it with `pip install 'moto[server]'` or set POWERSWEEP_MOTO_URL")
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port on 127.0.0.1")
}

fn wait_for_port(port: u16) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("moto_server did not listen on 127.0.0.1:{port} within 30 s");
}

/// A DynamoDB client for moto, with dummy credentials.
pub async fn dynamodb(url: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .http_client(powersweep_aws::http_client())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "t", "t", None, None, "test",
        ))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// Creates a table with the writer's key schema (`pk` S, `rk` N) and returns its name:
/// `prefix` plus this process's id and a counter, so that tests run again against the same
/// long-lived moto never find their table already there.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, prefix: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("{prefix}-{}-{n}", std::process::id());
    use aws_sdk_dynamodb::types::*;
    let attr = |n: &str, t| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(t)
            .build()
            .unwrap()
    };
    let key = |n: &str, t| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .unwrap()
    };
    client
        .create_table()
        .table_name(&name)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("rk", ScalarAttributeType::N))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("rk", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create table in moto");
    name
}

/// Every item of a table (following pagination).
pub async fn scan_all(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        items.extend(out.items.unwrap_or_default());
        start = out.last_evaluated_key;
        if start.is_none() {
            return items;
        }
    }
}

/// The dynamic symbols of an ELF file that need a glibc newer than `max` (`(2, 34)` for
/// Amazon Linux 2023), as `(symbol, "GLIBC_x.y")`, sorted. `cargo xtask package` and the
/// host's `glibc` test both use it, so the rule is written once.
///
/// Reads the `.gnu.version` table of the *undefined* dynamic symbols (what the binary asks of
/// the system's libc), not the symbol names: a name says nothing about which version the
/// linker bound.
///
/// # Errors
/// When the file cannot be read or is not a 64-bit ELF file.
pub fn glibc_symbols_newer_than(
    path: &std::path::Path,
    max: (u32, u32),
) -> Result<Vec<(String, String)>, ElfError> {
    use object::read::elf::{ElfFile64, Sym};
    let data = std::fs::read(path).map_err(|source| ElfError::Read {
        path: path.into(),
        source,
    })?;
    let file =
        ElfFile64::<object::Endianness>::parse(&*data).map_err(|source| ElfError::NotElf64 {
            path: path.into(),
            source,
        })?;
    let endian = file.endian();
    let sections = file.elf_section_table();
    let bad = |source| ElfError::Tables {
        path: path.into(),
        source,
    };
    let Some(versions) = sections.versions(endian, &*data).map_err(bad)? else {
        // No version table: a static binary, or one that asks for no versioned symbol.
        return Ok(Vec::new());
    };
    let symbols = sections
        .symbols(endian, &*data, object::elf::SHT_DYNSYM)
        .map_err(bad)?;
    let mut newer = Vec::new();
    for (index, symbol) in symbols.enumerate() {
        if !symbol.is_undefined(endian) {
            continue;
        }
        let Some(version) = versions
            .version(versions.version_index(endian, index))
            .map_err(bad)?
        else {
            continue;
        };
        let version = String::from_utf8_lossy(version.name()).into_owned();
        let Some(number) = glibc_version(&version) else {
            continue;
        };
        if number > max {
            let name = symbol
                .name(endian, symbols.strings())
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .unwrap_or_else(|_| "?".into());
            newer.push((name, version));
        }
    }
    newer.sort();
    newer.dedup();
    Ok(newer)
}

/// `GLIBC_2.34` → `(2, 34)`; `GLIBC_2.2.5` → `(2, 2)`; anything else (`GLIBC_PRIVATE`, other
/// libraries' versions) → `None`.
fn glibc_version(name: &str) -> Option<(u32, u32)> {
    let mut parts = name.strip_prefix("GLIBC_")?.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Why [`glibc_symbols_newer_than`] could not read a binary.
#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    /// The file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The binary.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Not a 64-bit ELF file.
    #[error("{} is not a 64-bit ELF file", path.display())]
    NotElf64 {
        /// The binary.
        path: std::path::PathBuf,
        /// What `object` found.
        #[source]
        source: object::read::Error,
    },
    /// Its section, symbol or version tables do not parse.
    #[error("{}: bad ELF tables", path.display())]
    Tables {
        /// The binary.
        path: std::path::PathBuf,
        /// What `object` found.
        #[source]
        source: object::read::Error,
    },
}

//! Lambda's two instruction sets (the analyzer's [`Architecture`], whose names Lambda and
//! `template.yaml` use) and their names in the other tools: Rust's target triple, Debian's
//! packages, and the ELF header of a built binary. Must not build or run anything.

pub use powersweep_analyzer::Architecture as Arch;

/// What the build tools call an architecture.
pub trait ToolNames {
    /// The Rust target triple.
    fn triple(self) -> &'static str;
    /// The prefix of the GNU cross tools (Debian's `gcc-<prefix>`, `<prefix>-strip`).
    fn gnu(self) -> &'static str;
    /// Debian's name for it (`libc6-dev-<name>-cross`).
    fn debian(self) -> &'static str;
    /// qemu-user's emulator for it.
    fn qemu(self) -> &'static str;
}

impl ToolNames for Arch {
    fn triple(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
            Arch::Arm64 => "aarch64-unknown-linux-gnu",
        }
    }

    fn gnu(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-linux-gnu",
            Arch::Arm64 => "aarch64-linux-gnu",
        }
    }

    fn debian(self) -> &'static str {
        match self {
            Arch::X86_64 => "amd64",
            Arch::Arm64 => "arm64",
        }
    }

    fn qemu(self) -> &'static str {
        match self {
            Arch::X86_64 => "qemu-x86_64",
            Arch::Arm64 => "qemu-aarch64",
        }
    }
}

/// The architecture of an ELF executable, if it is one of Lambda's.
pub fn of_elf(bytes: &[u8]) -> Option<Arch> {
    use object::Object;
    match object::File::parse(bytes).ok()?.architecture() {
        object::Architecture::X86_64 => Some(Arch::X86_64),
        object::Architecture::Aarch64 => Some(Arch::Arm64),
        _ => None,
    }
}

/// The architecture Lambda names `name` (`x86_64`, `arm64`): also the name of its folder of
/// zips under `build/lambda/`.
pub fn named(name: &str) -> Option<Arch> {
    <Arch as clap::ValueEnum>::value_variants()
        .iter()
        .copied()
        .find(|a| a.as_str() == name)
}

/// This machine's, if it is one of Lambda's.
pub fn native() -> Option<Arch> {
    match std::env::consts::ARCH {
        "x86_64" => Some(Arch::X86_64),
        "aarch64" => Some(Arch::Arm64),
        _ => None,
    }
}

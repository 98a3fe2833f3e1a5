//! What Lambda gives a memory size, as published or measured: the share, the visible cores and
//! the CFS period; and its architectures. One source for the emulator, the analyzer, the model
//! and the anchor's check.
//!
//! Numbers only; must not decide anything about this machine (its cores, its cgroups).

use crate::schedule::Cpu;
use serde::{Deserialize, Serialize};

/// The function's instruction set. Lambda prices arm64 about 20% below x86_64, and a vCPU of
/// each is its own speed (the anchor's).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Architecture {
    /// Intel/AMD; Lambda's default.
    #[default]
    #[serde(rename = "x86_64")]
    #[cfg_attr(feature = "clap", value(name = "x86_64"))]
    X86_64,
    /// Graviton.
    #[serde(rename = "arm64")]
    #[cfg_attr(feature = "clap", value(name = "arm64"))]
    Arm64,
}

impl Architecture {
    /// Every architecture, in Lambda's order (its default first).
    pub const ALL: [Architecture; 2] = [Architecture::X86_64, Architecture::Arm64];

    /// The name Lambda uses (`x86_64`, `arm64`).
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }
}

impl std::fmt::Display for Architecture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no Lambda architecture.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a Lambda architecture (x86_64, arm64)")]
pub struct UnknownArchitecture(pub String);

impl std::str::FromStr for Architecture {
    type Err = UnknownArchitecture;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Architecture::ALL
            .into_iter()
            .find(|a| a.as_str() == name)
            .ok_or_else(|| UnknownArchitecture(name.to_string()))
    }
}

/// Lambda's memory per vCPU today (AWS docs): 1,769 MB buys one vCPU.
pub const VCPU_MB: f64 = 1769.0;

/// The smallest and largest memory sizes Lambda accepts, in MB.
pub const MEMORY_RANGE_MB: std::ops::RangeInclusive<u32> = 128..=10_240;

/// The timeouts Lambda accepts, in seconds (`Timeout` of CreateFunction: up to 15 minutes).
pub const TIMEOUT_RANGE_S: std::ops::RangeInclusive<u32> = 1..=900;

/// The period over which Lambda enforces the share as a CFS quota, ms. Not documented by AWS;
/// measured: pwrdrvr/lambda-throttling (2025: at 1,024 MB a function runs ~11.6 ms of CPU and
/// pauses ~8 ms, at 512 MB ~5.8 and ~14 ms) and lambda-dispatch issue 246 ("the throttling
/// interval is actually 20 ms"; using more than the quota in the first 20 ms of an invocation
/// pauses it to the end of those 20 ms).
pub const CFS_PERIOD_MS: f64 = 20.0;

/// The shortest and longest CFS periods a user may ask for, ms (the kernel's bounds).
pub const MIN_CFS_PERIOD_MS: f64 = 1.0;
/// See [`MIN_CFS_PERIOD_MS`].
pub const MAX_CFS_PERIOD_MS: f64 = 1000.0;

/// The cores Lambda shows at a memory size. Measured by the community, not documented: 2 up to
/// 3,008 MB, then 3 / 4 / 5 / 6 from 3,009 / 5,308 / 7,077 / 8,846 MB.
pub fn visible_cores(memory_mb: u32) -> usize {
    match memory_mb {
        0..=3008 => 2,
        3009..=5307 => 3,
        5308..=7076 => 4,
        7077..=8845 => 5,
        _ => 6,
    }
}

/// The CPU of `memory_mb` on Lambda with `vcpu_mb` MB per vCPU, its share enforced per
/// `period_ms` (0: a fluid).
pub fn cpu(memory_mb: u32, vcpu_mb: f64, period_ms: f64) -> Cpu {
    Cpu {
        vcpus: f64::from(memory_mb) / vcpu_mb,
        cores: visible_cores(memory_mb),
        period_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! cores {
        ($mb:expr => $n:expr) => {
            assert_eq!(visible_cores($mb), $n, "{} MB", $mb)
        };
    }

    #[test]
    fn visible_cores_follow_the_measured_steps() {
        cores!(128 => 2);
        cores!(1769 => 2);
        cores!(3008 => 2);
        cores!(3009 => 3);
        cores!(5307 => 3);
        cores!(5308 => 4);
        cores!(7077 => 5);
        cores!(8845 => 5);
        cores!(8846 => 6);
        cores!(10240 => 6);
    }

    #[test]
    fn architectures_read_back_from_their_names_and_nothing_else() {
        for a in Architecture::ALL {
            assert_eq!(a.as_str().parse::<Architecture>(), Ok(a));
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
        let e = "aarch64".parse::<Architecture>().unwrap_err();
        assert!(
            e.to_string()
                .contains("`aarch64` is not a Lambda architecture"),
            "{e}"
        );
    }

    #[test]
    fn the_share_is_memory_over_vcpu_mb() {
        let c = cpu(3538, VCPU_MB, CFS_PERIOD_MS);
        assert!((c.vcpus - 2.0).abs() < 1e-12);
        assert_eq!(c.cores, 3, "past 3,008 MB Lambda shows a third core");
        assert_eq!(c.period_ms, 20.0);
    }
}

//! What Lambda gives a memory size, as published or measured: the share, the visible cores and
//! the CFS period. One source for the emulator, the model and the anchor's check.
//!
//! Numbers only; must not decide anything about this machine (its cores, its cgroups).

use crate::schedule::Cpu;

/// Lambda's memory per vCPU today (AWS docs): 1,769 MB buys one vCPU.
pub const VCPU_MB: f64 = 1769.0;

/// The smallest and largest memory sizes Lambda accepts, in MB.
pub const MEMORY_RANGE_MB: std::ops::RangeInclusive<u32> = 128..=10_240;

/// The period over which Lambda enforces the share as a CFS quota, ms. Not documented by AWS;
/// measured: pwrdrvr/lambda-throttling (2025: at 1,024 MB a function runs ~11.6 ms of CPU and
/// pauses ~8 ms, at 512 MB ~5.8 and ~14 ms) and lambda-dispatch issue 246 ("the throttling
/// interval is actually 20 ms"; using more than the quota in the first 20 ms of an invocation
/// pauses it to the end of those 20 ms).
pub const CFS_PERIOD_MS: f64 = 20.0;

/// The longest CFS period a user may ask for, ms (the kernel allows up to 1 s).
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
    fn the_share_is_memory_over_vcpu_mb() {
        let c = cpu(3538, VCPU_MB, CFS_PERIOD_MS);
        assert!((c.vcpus - 2.0).abs() < 1e-12);
        assert_eq!(c.cores, 3, "past 3,008 MB Lambda shows a third core");
        assert_eq!(c.period_ms, 20.0);
    }
}

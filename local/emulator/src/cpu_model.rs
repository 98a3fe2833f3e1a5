//! What Lambda's CPU model (`powersweep_model::lambda`: the share, the visible cores) means on
//! this host: whether it can give that much, and the share the emulator enforces.
//!
//! Owns the `capped` arithmetic only. It must not touch cgroups or processes; `cgroup.rs` and
//! `environment.rs` enforce what this computes.

pub use powersweep_model::lambda::{MEMORY_RANGE_MB, VCPU_MB as DEFAULT_VCPU_MB};

/// The vCPUs an environment gets during INIT (until its first `next`) at sizes below one
/// vCPU. AWS documents no INIT boost, but it is measured: AJ Stuyvenberg (Datadog, 2025,
/// DataDog/datadog-lambda-extension#191) saw on-demand INIT run at one vCPU whatever the
/// memory size (provisioned concurrency gets no boost); Luc van Donkersgoed (2022) saw two
/// unthrottled vCPUs. We take the lower: INIT at 128 MB is not 14× slower than at 1,769 MB.
pub const INIT_VCPUS: f64 = 1.0;

/// What one function configuration gets from the CPU model on this host.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuShare {
    /// The share Lambda would give: memory / vcpu_mb, in vCPUs.
    pub lambda_vcpus: f64,
    /// The share the emulator enforces: `lambda_vcpus` capped at the host's cores.
    pub vcpus: f64,
    /// The cores Lambda would show (`available_parallelism`) at this memory size.
    pub lambda_cores: usize,
    /// The cores the process may run on here: `lambda_cores` restricted to the host's cores.
    pub visible_cores: usize,
    /// True when this host cannot give the full share: results at this size are not faithful.
    pub capped: bool,
}

/// The CPU share of `memory_mb` with `vcpu_mb` MB per vCPU on a host with `host_cores` cores.
///
/// The share is a budget over all visible cores together (one cgroup quota), as in Lambda.
pub fn cpu_share(memory_mb: u32, vcpu_mb: f64, host_cores: usize) -> CpuShare {
    let host_cores = host_cores.max(1);
    let lambda = powersweep_model::lambda::cpu(memory_mb, vcpu_mb, 0.0);
    let host = host_cores as f64;
    CpuShare {
        lambda_vcpus: lambda.vcpus,
        vcpus: lambda.vcpus.min(host),
        lambda_cores: lambda.cores,
        visible_cores: lambda.cores.min(host_cores),
        capped: lambda.vcpus > host,
    }
}

/// The number of cores of this host (what `sched_getaffinity` allows us), at least 1.
pub fn host_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_is_memory_over_vcpu_mb_and_capped_at_host_cores() {
        let s = cpu_share(1769, DEFAULT_VCPU_MB, 2);
        assert!((s.vcpus - 1.0).abs() < 1e-9);
        assert!(!s.capped);
        let s = cpu_share(442, DEFAULT_VCPU_MB, 2);
        assert!((s.vcpus - 442.0 / 1769.0).abs() < 1e-9);
        let s = cpu_share(3538, DEFAULT_VCPU_MB, 2);
        assert!(!s.capped, "exactly two vCPUs fit on two cores");
        let s = cpu_share(3539, DEFAULT_VCPU_MB, 2);
        assert!(s.capped);
        assert_eq!(s.vcpus, 2.0);
        assert_eq!((s.lambda_cores, s.visible_cores), (3, 2));
        let s = cpu_share(1792, 1792.0, 1);
        assert!((s.vcpus - 1.0).abs() < 1e-9);
        assert_eq!(s.visible_cores, 1);
    }
}

//! The anchor's reference kernel, run natively on this machine: bcrypt, as AWS's Lambda sample
//! ran it (`powersweep_model::anchor::BCRYPT_SAMPLE`: the bcrypt crate 0.15, cost 10).
//!
//! One published run is a cost-10 hash, ~60–90 ms on a core. Calibration times the kernel
//! after every workload sample of a few ms, so one run here is a hash at [`COST`] instead
//! (32 times less work), and its time is scaled by the exact ratio of Blowfish block
//! encryptions, the kernel's whole work: the key setup runs `ExpandKey` (521 encryptions)
//! once, then twice per each of `2^cost` rounds, and the output takes 3 × 64 more.
//! Must not time anything: calibration does, on the thread's CPU clock.

/// The cost of the hash one run computes.
pub const COST: u32 = 5;

/// The cost of the published runs.
pub const PUBLISHED_COST: u32 = 10;

/// Blowfish block encryptions of one bcrypt hash at `cost`.
pub fn encryptions(cost: u32) -> u64 {
    521 * (1 + 2 * (1u64 << cost)) + 3 * 64
}

/// How many published runs (cost-10 hashes) one run here is worth: 34,057 / 1,067,721.
pub fn published_runs_per_run() -> f64 {
    encryptions(COST) as f64 / encryptions(PUBLISHED_COST) as f64
}

/// One run: a bcrypt hash at [`COST`] of a password like the sample's (`password_000000`).
pub fn run() {
    let hash = bcrypt::bcrypt(COST, *b"powersweep-salt!", b"password_000000");
    std::hint::black_box(hash);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_is_bcrypt() {
        // jBCrypt's vector `$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.`,
        // un-base64ed: the raw function computes the real hash.
        let salt = [
            0x14, 0x4b, 0x3d, 0x69, 0x1a, 0x7b, 0x4e, 0xcf, 0x39, 0xcf, 0x73, 0x5c, 0x7f, 0xa7,
            0xa7, 0x9c,
        ];
        let hash = [
            0x55, 0x7e, 0x94, 0xf3, 0x4b, 0xf2, 0x86, 0xe8, 0x71, 0x9a, 0x26, 0xbe, 0x94, 0xac,
            0x1e, 0x16, 0xd9, 0x5e, 0xf9, 0xf8, 0x19, 0xde, 0xe0,
        ];
        assert_eq!(bcrypt::bcrypt(6, salt, b"\0")[..23], hash);
    }

    #[test]
    fn one_run_is_a_fixed_fraction_of_a_published_hash() {
        assert_eq!(encryptions(10), 1_067_721);
        assert_eq!(encryptions(5), 34_057);
        assert!((1.0 / published_runs_per_run() - 31.35).abs() < 0.01);
    }

    /// The scaling, measured: cost-10 hashes against cost-5 hashes × the encryption ratio,
    /// interleaved on one thread (`cargo test --release -p powersweep-cli
    /// reference_kernel::tests::scaling -- --ignored --nocapture`). Printed, not asserted.
    #[test]
    #[ignore]
    fn scaling() {
        let cpu = powersweep_host::thread_cpu_time;
        let mut ratios = Vec::new();
        for _ in 0..30 {
            let t = cpu();
            std::hint::black_box(bcrypt::bcrypt(10, *b"powersweep-salt!", b"password_000000"));
            let full = (cpu() - t).as_secs_f64();
            let t = cpu();
            for _ in 0..32 {
                run();
            }
            let scaled = (cpu() - t).as_secs_f64() / 32.0 / published_runs_per_run();
            ratios.push(scaled / full);
            println!(
                "cost 10: {:.2} ms, cost 5 scaled: {:.2} ms",
                full * 1e3,
                scaled * 1e3
            );
        }
        ratios.sort_by(f64::total_cmp);
        println!("scaled ÷ full: median {:.4}", ratios[ratios.len() / 2]);
    }
}

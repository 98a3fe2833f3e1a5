//! The native baseline of `cargo xtask bench`: PBKDF2 of the same passwords, salt, key length
//! and iteration count as the guest job, timed here, printed as one JSON object.
//!
//! Usage: `native-pbkdf2 <passwords> <iterations> <repetitions>`. Prints the median over the
//! repetitions of the milliseconds the whole password list takes on one thread, per hash and
//! per implementation (`pbkdf2` crate with this build's `sha2` backend, and `ring`). Must not
//! compare or judge: `cargo xtask bench` does that.

use std::num::NonZeroU32;
use std::time::Instant;

/// The salt and key length of the bench job (keep in step with `xtask/src/bench.rs`).
const SALT: &[u8] = b"powersweep-bench-salt";
const KEY_LENGTH: usize = 64;

fn main() {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap_or(0))
        .collect();
    let [passwords, iterations, repetitions] = args[..] else {
        eprintln!("usage: native-pbkdf2 <passwords> <iterations> <repetitions>");
        std::process::exit(2);
    };
    let (Some(iters), true) = (
        NonZeroU32::new(iterations),
        passwords > 0 && repetitions > 0,
    ) else {
        eprintln!("all arguments must be positive integers");
        std::process::exit(2);
    };
    let passwords: Vec<String> = (0..passwords).map(|i| format!("password{i}")).collect();
    let time = |f: &dyn Fn(&[u8], &mut [u8])| {
        let mut runs: Vec<f64> = (0..repetitions)
            .map(|_| {
                let started = Instant::now();
                for p in &passwords {
                    let mut key = [0u8; KEY_LENGTH];
                    f(p.as_bytes(), &mut key);
                    std::hint::black_box(key);
                }
                started.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        runs.sort_by(f64::total_cmp);
        runs[runs.len() / 2]
    };
    let crate_256 = time(&|p, k| pbkdf2::pbkdf2_hmac::<sha2::Sha256>(p, SALT, iterations, k));
    let crate_512 = time(&|p, k| pbkdf2::pbkdf2_hmac::<sha2::Sha512>(p, SALT, iterations, k));
    let ring_256 =
        time(&|p, k| ring::pbkdf2::derive(ring::pbkdf2::PBKDF2_HMAC_SHA256, iters, SALT, p, k));
    let ring_512 =
        time(&|p, k| ring::pbkdf2::derive(ring::pbkdf2::PBKDF2_HMAC_SHA512, iters, SALT, p, k));
    println!(
        "{{\"soft\":{},\"pbkdf2Sha256Ms\":{crate_256:.3},\"pbkdf2Sha512Ms\":{crate_512:.3},\"ringSha256Ms\":{ring_256:.3},\"ringSha512Ms\":{ring_512:.3}}}",
        cfg!(feature = "soft")
    );
}

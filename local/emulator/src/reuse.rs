//! Work reuse in the `model` CPU mode: a warm invocation of a job the emulator has already
//! run twice with the same answer is answered from that run instead of running it again.
//!
//! In the `model` mode a duration is computed from the work a job did, not from the time it
//! took, so a job that makes no host calls and does the same work every run gives the same
//! modeled figures every time: running it again only repeats what is known. A sweep's repetitions and memory sizes run the same job many times, so reuse is
//! what lets the model mode finish in a fraction of the capped mode's time on a small machine.
//!
//! The rules, each a reason a replay would differ from a real run:
//! - the key is everything the job sees: the bootstrap, the code folder, the environment
//!   variables, the architecture and the event's bytes (memory size and timeout are not in
//!   it: uncapped, they do not change the run, and the model applies them afresh);
//! - a response counts only once two runs gave the same signature (the duration model's
//!   digest of the work); a different one, an error or a response the model will not sign
//!   (host calls: their data must really be written) stops reuse for the key;
//! - a run recorded at one memory size answers only sizes at least as large (the guest's
//!   linear memory budget is the memory size: what fitted in less fits in more);
//! - cold starts always run (their INIT is real and measured).
//!
//! Must not parse responses (the duration model owns the host's format) nor decide durations.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

/// Identical runs needed before a response is reused.
pub const CONFIRMATIONS: u32 = 2;

/// Keys remembered at once; past it, new keys are not recorded (memory stays bounded when a
/// caller sends many different events; each entry holds one response of up to 6 MB).
pub const MAX_KEYS: usize = 64;

/// What a job sees, hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ReuseKey([u8; 32]);

impl ReuseKey {
    /// The key of an event for a function version's bootstrap, code, variables and
    /// architecture.
    pub(crate) fn new(
        bootstrap: &Path,
        task_root: &Path,
        environment: &BTreeMap<String, String>,
        architecture: &str,
        payload: &[u8],
    ) -> Self {
        let mut h = Sha256::new();
        let mut field = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        field(bootstrap.as_os_str().as_encoded_bytes());
        field(task_root.as_os_str().as_encoded_bytes());
        for (k, v) in environment {
            field(k.as_bytes());
            field(v.as_bytes());
        }
        field(architecture.as_bytes());
        field(payload);
        ReuseKey(h.finalize().into())
    }
}

/// A response to answer with instead of running the job.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Replay {
    /// The recorded response body, as the function returned it.
    pub body: Vec<u8>,
    /// The invocation it came from (for the log).
    pub request_id: String,
}

#[derive(Debug)]
enum Entry {
    Seen {
        signature: Vec<u8>,
        runs: u32,
        memory_mb: u32,
        replay: Replay,
    },
    /// Answered differently, failed or impure: always run.
    Never,
}

/// The emulator's memory of pure jobs.
#[derive(Debug, Default)]
pub(crate) struct WorkReuse {
    entries: Mutex<HashMap<ReuseKey, Entry>>,
    replayed: AtomicU64,
}

impl WorkReuse {
    /// A confirmed response for `key` recorded at `memory_mb` or less, if any.
    pub(crate) fn lookup(&self, key: &ReuseKey, memory_mb: u32) -> Option<Replay> {
        let entries = crate::emulator::lock(&self.entries);
        match entries.get(key) {
            Some(Entry::Seen {
                runs,
                memory_mb: recorded,
                replay,
                ..
            }) if *runs >= CONFIRMATIONS && *recorded <= memory_mb => {
                self.replayed.fetch_add(1, Ordering::Relaxed);
                Some(replay.clone())
            }
            _ => None,
        }
    }

    /// Records a real run: its signature (`None`: not reusable) and response.
    pub(crate) fn record(
        &self,
        key: ReuseKey,
        signature: Option<Vec<u8>>,
        memory_mb: u32,
        replay: Replay,
    ) {
        let mut entries = crate::emulator::lock(&self.entries);
        let Some(signature) = signature else {
            entries.insert(key, Entry::Never);
            return;
        };
        if !entries.contains_key(&key) && entries.len() >= MAX_KEYS {
            return;
        }
        let entry = entries.entry(key).or_insert_with(|| Entry::Seen {
            signature: signature.clone(),
            runs: 0,
            memory_mb,
            replay: replay.clone(),
        });
        let same = matches!(entry, Entry::Seen { signature: s, .. } if *s == signature);
        match entry {
            Entry::Seen {
                runs,
                memory_mb: recorded,
                replay: kept,
                ..
            } if same => {
                *runs += 1;
                if memory_mb < *recorded {
                    *recorded = memory_mb;
                    *kept = replay;
                }
            }
            _ => *entry = Entry::Never,
        }
    }

    /// Invocations answered from a recorded run so far.
    pub(crate) fn replayed(&self) -> u64 {
        self.replayed.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(payload: &str) -> ReuseKey {
        ReuseKey::new(
            Path::new("/b"),
            Path::new("/t"),
            &BTreeMap::new(),
            "x86_64",
            payload.as_bytes(),
        )
    }

    fn run(id: &str) -> Replay {
        Replay {
            body: id.as_bytes().to_vec(),
            request_id: id.into(),
        }
    }

    #[test]
    fn a_response_is_reused_only_after_two_identical_runs() {
        let reuse = WorkReuse::default();
        let k = key("{}");
        reuse.record(k, Some(b"sig".to_vec()), 512, run("a"));
        assert_eq!(reuse.lookup(&k, 512), None, "one run is not a confirmation");
        reuse.record(k, Some(b"sig".to_vec()), 512, run("b"));
        assert_eq!(reuse.lookup(&k, 512), Some(run("a")));
        assert_eq!(reuse.replayed(), 1);
    }

    #[test]
    fn a_different_answer_or_an_impure_run_stops_reuse_for_good() {
        let reuse = WorkReuse::default();
        let k = key("{}");
        reuse.record(k, Some(b"one".to_vec()), 512, run("a"));
        reuse.record(k, Some(b"two".to_vec()), 512, run("b"));
        reuse.record(k, Some(b"two".to_vec()), 512, run("c"));
        reuse.record(k, Some(b"two".to_vec()), 512, run("d"));
        assert_eq!(reuse.lookup(&k, 512), None);

        let k = key("[]");
        reuse.record(k, Some(b"sig".to_vec()), 512, run("a"));
        reuse.record(k, Some(b"sig".to_vec()), 512, run("b"));
        reuse.record(k, None, 512, run("c"));
        reuse.record(k, Some(b"sig".to_vec()), 512, run("d"));
        assert_eq!(reuse.lookup(&k, 512), None);
    }

    #[test]
    fn a_run_answers_only_memory_sizes_at_least_its_own_and_the_smallest_is_kept() {
        let reuse = WorkReuse::default();
        let k = key("{}");
        reuse.record(k, Some(b"sig".to_vec()), 2048, run("big"));
        reuse.record(k, Some(b"sig".to_vec()), 2048, run("big2"));
        assert_eq!(reuse.lookup(&k, 1024), None, "it might not fit in less");
        assert_eq!(reuse.lookup(&k, 4096), Some(run("big")));
        reuse.record(k, Some(b"sig".to_vec()), 512, run("small"));
        assert_eq!(reuse.lookup(&k, 1024), Some(run("small")));
    }

    #[test]
    fn every_field_a_job_sees_is_in_the_key() {
        let base = key("{}");
        let env: BTreeMap<String, String> = [("A".into(), "1".into())].into();
        let other = [
            ReuseKey::new(
                Path::new("/c"),
                Path::new("/t"),
                &BTreeMap::new(),
                "x86_64",
                b"{}",
            ),
            ReuseKey::new(
                Path::new("/b"),
                Path::new("/u"),
                &BTreeMap::new(),
                "x86_64",
                b"{}",
            ),
            ReuseKey::new(Path::new("/b"), Path::new("/t"), &env, "x86_64", b"{}"),
            ReuseKey::new(
                Path::new("/b"),
                Path::new("/t"),
                &BTreeMap::new(),
                "arm64",
                b"{}",
            ),
            key("{ }"),
        ];
        for k in other {
            assert_ne!(k, base);
        }
        // Field boundaries count: "ab" + "c" is not "a" + "bc".
        assert_ne!(
            ReuseKey::new(Path::new("/ab"), Path::new("c"), &BTreeMap::new(), "", b""),
            ReuseKey::new(Path::new("/a"), Path::new("bc"), &BTreeMap::new(), "", b""),
        );
    }

    #[test]
    fn memory_stays_bounded_when_every_event_differs() {
        let reuse = WorkReuse::default();
        for i in 0..(MAX_KEYS + 10) {
            let k = key(&i.to_string());
            reuse.record(k, Some(b"sig".to_vec()), 512, run("a"));
        }
        assert_eq!(crate::emulator::lock(&reuse.entries).len(), MAX_KEYS);
    }
}

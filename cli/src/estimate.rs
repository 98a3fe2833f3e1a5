//! What one execution of a sweep will take before it starts: Step Functions history events
//! and state bytes (AWS's quotas for one Standard execution), state transitions, and what it
//! costs on AWS (Lambda requests and GB-s, Step Functions transitions).
//!
//! It owns the counting model of `statemachine/powersweep.asl.json` (checked against the
//! local engine's own count by the CLI tests) and the wording of the estimate. It must not
//! start anything: `sweep` calls it first, and `sweep --dry-run` calls nothing else.

use anyhow::{Result, bail};
use powersweep_analyzer::{Pricing, SweepLayout};
use powersweep_asl::{HISTORY_EVENTS_QUOTA, PAYLOAD_QUOTA_BYTES};

/// Polls of `getFunctionConfiguration` allowed per published version on AWS, where an update
/// takes a second or more (locally the first check finds it done).
const AWS_POLLS_PER_SLOT: u64 = 3;
/// Events of one poll: `WaitForUpdate`, `CountPoll` and `IsUpdateDone` (entered and exited
/// each) and `CheckUpdate` (entered, scheduled, started, succeeded, exited).
const EVENTS_PER_POLL: u64 = 11;
/// Share of the history quota kept free for what the estimate does not count: retried
/// invocations (throttling: three events a retry) and error rows.
const HISTORY_HEADROOM: f64 = 0.1;
/// The most one sample takes in the execution's state, bytes: the widest figures (10,240 MB,
/// 64 threads, 17-digit durations) and a cold start's REPORT in Lambda's JSON log format (the
/// text format's line is ~120 bytes shorter), and the widest count of items written; the
/// test `a_sample_fits_its_estimate` builds both.
pub const SAMPLE_BYTES: u64 = 580;
/// What `includeSamples` adds to the analyzer's output per sample, bytes (the test
/// `the_analysis_fits_its_estimate` measures a wide one).
pub const SAMPLE_RECORD_BYTES: u64 = 220;
/// What the analyzer's output adds to the state per row (it sits beside the samples until
/// the end), bytes; the test `the_analysis_fits_its_estimate` measures a wide one.
pub const ROW_BYTES: u64 = 1024;
/// What the plan's layout takes per group and per published version, bytes (`{"slot":123,
/// "threads":[1,2,3,4,5,6]}` and a version entry `{"memoryMb":10240, "version":"123"}`).
const GROUP_BYTES: u64 = 64;
const SLOT_BYTES: u64 = 48;
/// The state around the samples and rows (settings, the recommendations and the link)
/// beside the payload, bytes.
pub const STATE_BYTES_BESIDE_SAMPLES: u64 = 6144;
/// Share of the state quota kept free for what the estimate does not count (long error
/// causes of failed samples).
const STATE_HEADROOM: f64 = 0.1;
/// Step Functions Standard workflows, USD per state transition ($0.025 per 1,000 in
/// us-east-1, <https://aws.amazon.com/step-functions/pricing/>; other regions differ by a
/// few percent; the 4,000 free transitions a month are not subtracted).
pub const TRANSITION_USD: f64 = 0.000_025;

/// S3 Standard, USD per PUT and per GET request in us-east-1 ($0.005 per 1,000 and $0.0004
/// per 1,000, <https://aws.amazon.com/s3/pricing/>).
pub const S3_PUT_USD: f64 = 0.000_005;
/// See [`S3_PUT_USD`].
pub const S3_GET_USD: f64 = 0.000_000_4;

/// What `autoOptimize` adds at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Optimize {
    /// No `autoOptimize`.
    No,
    /// Memory and thread count of `$LATEST`.
    Latest,
    /// And a version behind an alias.
    WithAlias,
}

/// The size of one execution, from the plan's layout: the parent execution, and each round
/// (a child execution of the distributed `Sweep`, with its own history and state).
#[derive(Debug, Clone)]
pub struct Shape {
    /// Memory size of every invocation, MB, for the GB-s.
    pub invocation_memory_mb: Vec<u32>,
    /// Configurations (rows of the analysis).
    pub rows: u64,
    /// Rounds (child executions).
    pub rounds: u64,
    /// Groups over all rounds (a version's invocations in one round).
    pub groups: u64,
    /// Groups of one round.
    pub groups_per_round: u64,
    /// Versions published.
    pub slots: u64,
    /// Functions swept (one per architecture).
    pub functions: u64,
    /// Invocations of the host.
    pub invocations: u64,
    /// Whether a `Wait` comes before each invocation.
    pub sleeping: bool,
    /// power-tuning's `dryRun`: no analysis.
    pub dry_run: bool,
    /// What `autoOptimize` adds.
    pub optimize: Optimize,
    /// Whether the analysis copies every sample into its output.
    pub include_samples: bool,
    /// The payload as JSON text, bytes (weighted payloads: the whole list).
    pub payload_bytes: u64,
}

/// What the plan takes per round, bytes (`{"round":300,"payload":0,"offset":12345,
/// "first":false}`).
const ROUND_BYTES: u64 = 64;
/// A round's input beside its groups, versions and payload, bytes.
const ROUND_INPUT_BYTES: u64 = 512;

impl Shape {
    /// The shape of `layout`, a plan of `rows` configurations.
    pub fn new(layout: &SweepLayout, rows: u64) -> Self {
        let invocation_memory_mb = layout
            .rounds
            .iter()
            .flat_map(|r| layout.groups.iter().map(move |g| (g, r.offset)))
            .flat_map(|(g, offset)| {
                let mb = layout
                    .publish
                    .get(g.slot + offset)
                    .map_or(0, |s| s.memory_mb);
                g.threads.iter().map(move |_| mb)
            })
            .collect();
        let groups_per_round = layout.groups.len() as u64;
        Shape {
            invocation_memory_mb,
            rows,
            rounds: layout.rounds.len() as u64,
            groups: layout.rounds.len() as u64 * groups_per_round,
            groups_per_round,
            slots: layout.publish.len() as u64,
            functions: layout.functions.len().max(1) as u64,
            invocations: layout.invocations,
            sleeping: layout.sleep_seconds > 0,
            dry_run: false,
            optimize: Optimize::No,
            include_samples: false,
            payload_bytes: 2,
        }
    }

    /// Invocations of one round.
    pub fn invocations_per_round(&self) -> u64 {
        self.invocations.div_ceil(self.rounds.max(1))
    }

    /// The history events of the parent execution on the local engine, where every update
    /// is done at the first check and no invocation fails: 52 for the execution (55 with
    /// `dryRun`), 20 per function (its original configuration read, and restored), 30 per
    /// published version (publish and clean up), and 11 (21 with an alias) for
    /// `autoOptimize`. The rounds' events are in their own histories.
    pub fn local_history_events(&self) -> u64 {
        let execution = if self.dry_run { 55 } else { 52 };
        let optimize = match self.optimize {
            Optimize::No => 0,
            Optimize::Latest => 11,
            Optimize::WithAlias => 21,
        };
        execution + 20 * self.functions + 30 * self.slots + optimize
    }

    /// The history events of one round's child execution: 6 for the execution and its Map,
    /// 8 per group, 11 per invocation (13 with a pause).
    pub fn round_history_events(&self) -> u64 {
        let per_invocation = if self.sleeping { 13 } else { 11 };
        6 + 8 * self.groups_per_round + per_invocation * self.invocations_per_round()
    }

    /// The parent's history events on AWS: [`Shape::local_history_events`] plus
    /// [`AWS_POLLS_PER_SLOT`] polls per published version for the updates AWS applies in
    /// the background. See [`HISTORY_HEADROOM`] for what it leaves out.
    pub fn history_events(&self) -> u64 {
        self.local_history_events() + AWS_POLLS_PER_SLOT * EVENTS_PER_POLL * self.slots
    }

    /// The states entered (what a Standard workflow is billed for) on the local engine, the
    /// rounds' included: 16 for the execution (17 with `dryRun`), 5 per function, 7 per
    /// published version, 1 per round (its `Round` Map), 2 per group, 3 per invocation (4
    /// with a pause), and 4 (6 with an alias) for `autoOptimize`.
    pub fn local_transitions(&self) -> u64 {
        let per_invocation = if self.sleeping { 4 } else { 3 };
        let optimize = match self.optimize {
            Optimize::No => 0,
            Optimize::Latest => 4,
            Optimize::WithAlias => 6,
        };
        16 + 5 * self.functions
            + 7 * self.slots
            + self.rounds
            + 2 * self.groups
            + per_invocation * self.invocations
            + optimize
    }

    /// The transitions on AWS: with [`AWS_POLLS_PER_SLOT`] polls of 4 states per version.
    pub fn transitions(&self) -> u64 {
        self.local_transitions() + AWS_POLLS_PER_SLOT * 4 * self.slots
    }

    /// The S3 requests of one execution: the `ResultWriter`'s PUTs (a result file and the
    /// manifest) and the analyzer's GETs of both.
    pub fn s3_requests(&self) -> (u64, u64) {
        (2, 2)
    }

    /// The bytes of the parent execution's state at its largest, with the analysis (or a
    /// probe's samples) in it: what Step Functions caps at [`PAYLOAD_QUOTA_BYTES`]. The
    /// samples themselves are in S3; the plan grows with the rounds; the payload is there
    /// twice (the settings and the plan's payloads).
    pub fn state_bytes(&self) -> u64 {
        let records = if self.include_samples {
            self.invocations * SAMPLE_RECORD_BYTES
        } else {
            0
        };
        let probe = if self.dry_run {
            self.invocations * SAMPLE_BYTES
        } else {
            0
        };
        records
            + probe
            + self.rows * ROW_BYTES
            + 2 * self.payload_bytes
            + self.rounds * ROUND_BYTES
            + self.groups_per_round * GROUP_BYTES
            + self.slots * SLOT_BYTES
            + STATE_BYTES_BESIDE_SAMPLES
    }

    /// The bytes of one round's state at its largest: its input (the groups, the versions,
    /// the payload) and its samples.
    pub fn round_state_bytes(&self) -> u64 {
        self.invocations_per_round() * SAMPLE_BYTES
            + self.groups_per_round * GROUP_BYTES
            + self.slots * SLOT_BYTES
            + self.payload_bytes
            + ROUND_INPUT_BYTES
    }

    fn fits(&self) -> bool {
        self.too_big().is_none()
    }

    /// The first quota this plan passes: (what, how much, the quota less its headroom).
    fn too_big(&self) -> Option<(&'static str, u64, f64)> {
        let most_events = HISTORY_EVENTS_QUOTA as f64 * (1.0 - HISTORY_HEADROOM);
        let most_bytes = PAYLOAD_QUOTA_BYTES as f64 * (1.0 - STATE_HEADROOM);
        [
            ("history", self.history_events(), most_events),
            ("state", self.state_bytes(), most_bytes),
            ("round history", self.round_history_events(), most_events),
            ("round state", self.round_state_bytes(), most_bytes),
        ]
        .into_iter()
        .find(|(_, n, most)| *n as f64 > *most)
    }

    /// Fails when the plan would not fit on AWS: the execution's history events or state, or
    /// one round's (a child execution's), naming the most repetitions that fit
    /// (`with_repetitions` makes the shape of the same plan with fewer) or what to change.
    pub fn check_quotas(
        &self,
        repetitions: u32,
        with_repetitions: impl Fn(u32) -> Option<Shape>,
    ) -> Result<()> {
        let Some((what, amount, _)) = self.too_big() else {
            return Ok(());
        };
        let most_bytes = PAYLOAD_QUOTA_BYTES as f64 * (1.0 - STATE_HEADROOM);
        // The state carries the payload twice whatever the plan's size: fewer sizes cannot
        // make room for a payload that alone is too large.
        let payload_room = (most_bytes as u64).saturating_sub(STATE_BYTES_BESIDE_SAMPLES) / 2;
        let advice = if self.payload_bytes > payload_room {
            format!(
                "the payload ({} KB) is carried twice in the state, so at most about {} KB fits; pass a smaller payload (a table or an object key for the workload to read, rather than the data)",
                self.payload_bytes / 1024,
                payload_room / 1024
            )
        } else if what.starts_with("round") {
            "one round runs every configuration once: sweep fewer sizes or thread counts".into()
        } else if self.include_samples && what == "state" {
            "--include-samples copies every sample into the analysis, which stays in the state: leave it out (the samples are kept in S3 either way) or sweep fewer repetitions".into()
        } else {
            (1..repetitions)
                .rev()
                .find(|&r| with_repetitions(r).is_some_and(|s| s.fits()))
                .map(|r| format!("--repetitions {r} fits"))
                .unwrap_or_else(|| "sweep fewer sizes or thread counts".into())
        };
        let headroom_events = HISTORY_HEADROOM * 100.0;
        match what {
            "history" => bail!(
                "this plan makes about {amount} Step Functions history events in the execution, more than one may have (AWS's quota: {HISTORY_EVENTS_QUOTA}, less {headroom_events:.0}% for retries): {advice}; locally, --lift-quotas runs it anyway"
            ),
            "round history" => bail!(
                "one round of this plan makes about {amount} history events in its child execution, more than one may have (AWS's quota: {HISTORY_EVENTS_QUOTA}, less {headroom_events:.0}% for retries): {advice}; locally, --lift-quotas runs it anyway"
            ),
            which => bail!(
                "this plan takes about {} KB of the {} state, more than one state may hold (AWS's quota: {} KB, less {:.0}% for error causes): {advice}; locally, --lift-quotas runs it anyway",
                amount / 1024,
                if which == "state" {
                    "execution's"
                } else {
                    "round's"
                },
                PAYLOAD_QUOTA_BYTES / 1024,
                STATE_HEADROOM * 100.0
            ),
        }
    }

    /// GB-s of compute for every second a job takes (Σ memory in GB over invocations).
    pub fn gb_per_job_second(&self) -> f64 {
        self.invocation_memory_mb
            .iter()
            .map(|&mb| f64::from(mb) / 1024.0)
            .sum()
    }

    /// What one execution costs on AWS, in lines: requests, compute per second of a job (and
    /// at most, when the function's timeout is known), and state transitions. `prices` has
    /// one entry per function swept, each of which gets an equal share of the invocations.
    pub fn cost_lines(&self, prices: &[Pricing], timeout_s: Option<u32>) -> Vec<String> {
        let Some(pricing) = prices.first() else {
            return Vec::new();
        };
        // The analyzer is invoked twice (plan and analysis) and runs for milliseconds.
        let requests = self.invocations + if self.dry_run { 1 } else { 2 };
        let gb_s = self.gb_per_job_second();
        let mean_price = prices.iter().map(|p| p.gb_second_usd).sum::<f64>() / prices.len() as f64;
        let per_second = gb_s * mean_price;
        let rates: Vec<String> = prices
            .iter()
            .map(|p| format!("${}/GB-s {}", p.gb_second_usd, p.architecture))
            .collect();
        let at_most = timeout_s
            .map(|t| {
                format!(
                    "; at most ${:.4} if every job ran to the {t} s timeout",
                    per_second * f64::from(t)
                )
            })
            .unwrap_or_default();
        let transitions = self.transitions();
        let (puts, gets) = self.s3_requests();
        vec![
            format!(
                "Lambda: {requests} requests (${:.6}), and ${per_second:.6} of compute per second a job takes ({gb_s:.2} GB-s per second at {} in {}){at_most}",
                requests as f64 * pricing.request_usd,
                rates.join(" and "),
                pricing.price_region,
            ),
            format!(
                "Step Functions: about {transitions} state transitions (${:.4} at $0.025 per 1,000, Standard workflows)",
                transitions as f64 * TRANSITION_USD
            ),
            format!(
                "S3: {puts} PUT and {gets} GET requests (${:.6}) for the samples' result files, kept 30 days (a few KB per round)",
                puts as f64 * S3_PUT_USD + gets as f64 * S3_GET_USD
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use powersweep_analyzer::{Architecture, PlanInput, plan};
    use serde_json::json;

    fn shape(extra: serde_json::Value) -> Shape {
        let mut input = json!({"memorySizes": [512, 1024], "threads": [1, 2], "repetitions": 3,
                               "functionName": "f"});
        if let (Some(i), Some(e)) = (input.as_object_mut(), extra.as_object()) {
            i.extend(e.clone());
        }
        let input: PlanInput = serde_json::from_value(input).unwrap();
        Shape::new(&plan(&input).unwrap(), 4)
    }

    #[test]
    fn every_function_swept_reads_and_restores_its_original_and_publishes_its_sizes() {
        let one = shape(json!({}));
        let hosts = json!({"x86_64": "a", "arm64": "b"});
        let two = shape(
            json!({"architectures": ["x86_64", "arm64"], "hostFunctions": hosts,
                               "functionName": null}),
        );
        assert_eq!((two.functions, two.slots, two.invocations), (2, 4, 24));
        // 20 events per function, 30 per version; a round 8 per group, 11 per invocation.
        assert_eq!(
            two.local_history_events() - one.local_history_events(),
            20 + 30 * 2
        );
        assert_eq!(
            two.round_history_events() - one.round_history_events(),
            8 * 2 + 11 * 4
        );
    }

    #[test]
    fn a_payload_too_large_for_the_state_is_named_not_the_plan() {
        let mut big = shape(json!({}));
        big.payload_bytes = 200 * 1024;
        let err = big.check_quotas(3, |_| None).unwrap_err().to_string();
        assert!(
            err.contains("the payload (200 KB) is carried twice in the state"),
            "{err}"
        );
        assert!(!err.contains("fewer sizes"), "{err}");
        // A payload that fits leaves the advice to the plan.
        let mut many = shape(json!({}));
        many.invocations = 100_000;
        many.rounds = 1;
        let err = many.check_quotas(3, |_| None).unwrap_err().to_string();
        assert!(
            err.contains("one round runs every configuration once"),
            "{err}"
        );
    }

    #[test]
    fn cold_starts_publish_a_version_per_invocation() {
        let warm = shape(json!({}));
        let cold = shape(json!({"onlyColdStarts": true}));
        assert_eq!((warm.slots, warm.groups, warm.invocations), (2, 6, 12));
        assert_eq!((cold.slots, cold.groups, cold.invocations), (12, 12, 12));
        assert!(cold.history_events() > warm.history_events());
        assert_eq!(warm.gb_per_job_second(), cold.gb_per_job_second());
        // 6 invocations at 0.5 GB and 6 at 1 GB.
        assert_eq!(warm.gb_per_job_second(), 9.0);
    }

    #[test]
    fn a_pause_costs_two_events_and_a_transition_per_invocation() {
        let plain = shape(json!({}));
        let paused = shape(json!({"sleepBetweenRunsMs": 10}));
        assert_eq!(
            paused.round_history_events() - plain.round_history_events(),
            8
        );
        assert_eq!(paused.local_transitions() - plain.local_transitions(), 12);
    }

    #[test]
    fn the_cost_lines_name_every_figure() {
        let pricing = Pricing::lookup(Some("us-east-1"), Architecture::Arm64);
        let lines = shape(json!({}))
            .cost_lines(std::slice::from_ref(&pricing), Some(10))
            .join("\n");
        assert!(lines.contains("14 requests"), "{lines}");
        assert!(lines.contains("9.00 GB-s per second"), "{lines}");
        assert!(lines.contains("10 s timeout"), "{lines}");
        assert!(lines.contains("state transitions"), "{lines}");
        assert!(lines.contains("S3: 2 PUT and 2 GET requests"), "{lines}");
        assert!(
            lines.contains("$0.0000133334/GB-s arm64 in us-east-1"),
            "{lines}"
        );
        // Two functions: half the invocations at each price.
        let x86 = Pricing::lookup(Some("us-east-1"), Architecture::X86_64);
        let both = shape(json!({})).cost_lines(&[x86.clone(), pricing.clone()], None)[0].clone();
        let mean = (x86.gb_second_usd + pricing.gb_second_usd) / 2.0;
        assert!(
            both.contains(&format!("${:.6} of compute", 9.0 * mean)),
            "{both}"
        );
        assert!(
            both.contains("x86_64 and $0.0000133334/GB-s arm64"),
            "{both}"
        );
    }
}

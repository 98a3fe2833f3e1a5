//! The sweep's layout: which versions to publish, which payload each round sends, which
//! thread counts run on which version, and how long to pause between invocations; with the
//! checks of every execution option that needs one (power-tuning's `dryRun`,
//! `onlyColdStarts`, weighted payloads, `allowedExceptions`, `sleepBetweenRunsMs`,
//! `autoOptimize`, `autoOptimizeAlias`).
//!
//! It exists because Amazon States Language has no multiplication or division: the state
//! machine's `Plan` step hands its merged settings to the analyzer Lambda, which answers with
//! [`plan`]'s [`SweepLayout`], and the CLI calls the same function before it starts anything,
//! so a bad option fails in one line either way. It must not invoke, read the clock or do
//! I/O.
//!
//! # Layout
//! - `functions`: the functions to sweep, one per architecture as a rule: `functionNames`, or
//!   the deployed host function of each of `architectures` (`hostFunctions`, filled in by the
//!   template), or `functionName`.
//! - `publish`: every version to publish, one per *slot*: its function (an index into
//!   `functions`) and memory size. Normally a slot per function and memory size; with
//!   `onlyColdStarts`, one per (round, function, memory size, thread count), so every
//!   invocation is its version's first, a cold start (as power-tuning publishes a version per
//!   invocation).
//! - `groups`: what every round invokes; a group is one slot and the thread counts run on it
//!   one after another. Given once, as round 1 numbers the slots.
//! - `rounds`: one per repetition (one with `dryRun`). Each names its payload (an index into
//!   `payloads`), its `offset` (added to every group's slot: 0, or with `onlyColdStarts` the
//!   versions of the rounds before it) and `first`, set on the round that reports a version's
//!   publishing error (the first, or every round with `onlyColdStarts`). A round is one child
//!   execution of the state machine's distributed `Sweep`, so nothing in the plan grows with
//!   rows × repetitions.
//! - `payloads`: one payload, or power-tuning's weighted list spread over the rounds: payload
//!   `i` gets `floor(weight_i × rounds ÷ Σweight)` consecutive rounds (each must earn at
//!   least one) and the last gets the rest (power-tuning's rule, so the same input means the
//!   same invocations).
//! - `sleepSeconds`: `sleepBetweenRunsMs` rounded up to whole seconds, the unit of a Step
//!   Functions `Wait`; the pause comes before each invocation.
//! - `discardTopBottom`: the trim the analysis uses: 0 with `onlyColdStarts` (power-tuning's
//!   rule: every sample is a cold start, none is an outlier to drop), else the setting.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Error;

/// The most invocations one plan may lay out: far past what one execution on AWS can hold
/// (its 25,000 history events allow about 2,000), low enough that a typo in `repetitions`
/// cannot make the planner allocate without bound.
pub const MAX_INVOCATIONS: u64 = 100_000;

/// The environment variable the host reads its default thread count from (an event without
/// `threads`); `autoOptimize` sets it to the winning thread count.
pub const THREADS_VARIABLE: &str = "POWERSWEEP_THREADS";

/// Lambda's alias names: 1–128 of `[a-zA-Z0-9-_]`, not all digits (that would be a version).
pub const ALIAS_MAX_CHARS: usize = 128;

/// What the planner reads from the state machine's merged settings (other fields are
/// ignored: the settings carry the analyzer's too).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanInput {
    /// The one function to sweep when neither `functionNames` nor `architectures` is given.
    #[serde(default)]
    pub function_name: Option<String>,
    /// The functions to sweep, by name (one per architecture, as a rule).
    #[serde(default)]
    pub function_names: Option<Vec<String>>,
    /// The architectures to sweep: each one's deployed host function, from `hostFunctions`.
    #[serde(default)]
    pub architectures: Option<Vec<String>>,
    /// The deployed host function of each architecture (the state machine's defaults).
    #[serde(default)]
    pub host_functions: std::collections::BTreeMap<String, String>,
    /// One payload, or power-tuning's weighted list `[{"payload", "weight"}, …]`.
    #[serde(default)]
    pub payload: Value,
    /// Memory sizes, MB.
    pub memory_sizes: Vec<u32>,
    /// Thread counts.
    pub threads: Vec<u32>,
    /// Invocations per configuration.
    pub repetitions: u32,
    /// The analysis's trim at each end (the analyzer checks its range).
    #[serde(default = "default_discard")]
    pub discard_top_bottom: f64,
    /// One invocation per configuration and no analysis (checks permissions and that every
    /// configuration runs).
    #[serde(default)]
    pub dry_run: bool,
    /// A fresh version for every invocation, so that each is a cold start.
    #[serde(default)]
    pub only_cold_starts: bool,
    /// A pause before each invocation, ms (a number ≥ 0).
    #[serde(default)]
    pub sleep_between_runs_ms: Value,
    /// Error names that count as a normal measurement (a list of strings).
    #[serde(default = "empty_list")]
    pub allowed_exceptions: Value,
    /// Apply the recommendation to the function afterwards.
    #[serde(default)]
    pub auto_optimize: bool,
    /// With `autoOptimize`: publish the optimized configuration and point this alias at it
    /// (`null` is none, as the state machine's `HasAlias` reads it).
    #[serde(default)]
    pub auto_optimize_alias: Option<Value>,
}

fn default_discard() -> f64 {
    0.2
}

fn empty_list() -> Value {
    Value::Array(Vec::new())
}

/// What the state machine runs; see the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepLayout {
    /// The functions swept, by name.
    pub functions: Vec<String>,
    /// The distinct payloads, in the order the rounds use them.
    pub payloads: Vec<Value>,
    /// Each version to publish, by slot.
    pub publish: Vec<Slot>,
    /// The versions every round invokes, as round 1 numbers their slots (a round adds its
    /// [`Round::offset`]).
    pub groups: Vec<Group>,
    /// The rounds, in order.
    pub rounds: Vec<Round>,
    /// Whole seconds to wait before each invocation; 0 for none.
    pub sleep_seconds: u64,
    /// Invocations in all.
    pub invocations: u64,
    /// The trim at each end the analysis uses.
    pub discard_top_bottom: f64,
}

/// One version to publish: which function, at which memory size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Slot {
    /// Index into [`SweepLayout::functions`].
    pub function: usize,
    /// Memory size, MB.
    pub memory_mb: u32,
}

/// One round: every configuration once, with one payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Round {
    /// 1-based, as the results name it.
    pub round: u32,
    /// Index into [`SweepLayout::payloads`].
    pub payload: usize,
    /// What this round adds to each group's slot: 0, or with `onlyColdStarts` (a version per
    /// invocation) the versions of the rounds before it.
    pub offset: usize,
    /// Whether this round is its versions' first: its groups report a failure to publish.
    pub first: bool,
}

/// One version's invocations in a round, run one after another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// Index into [`SweepLayout::publish`] (and the published versions).
    pub slot: usize,
    /// The thread counts, in order.
    pub threads: Vec<u32>,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidSetting {
        field,
        reason: reason.into(),
    }
}

/// Checks the options and lays the sweep out.
///
/// # Errors
/// [`Error::InvalidSetting`] naming the field: empty `memorySizes` or `threads`,
/// `repetitions` 0, more than [`MAX_INVOCATIONS`], a weighted payload with a weight that is
/// not a positive number (or too small to get one round), fewer rounds than weighted
/// payloads, a negative or non-numeric `sleepBetweenRunsMs`, `allowedExceptions` that is not
/// a list of strings, or an `autoOptimizeAlias` Lambda would reject (or given without
/// `autoOptimize`).
pub fn plan(input: &PlanInput) -> Result<SweepLayout, Error> {
    if input.memory_sizes.is_empty() {
        return Err(invalid("memorySizes", "give at least one memory size"));
    }
    if input.threads.is_empty() {
        return Err(invalid("threads", "give at least one thread count"));
    }
    if input.repetitions == 0 {
        return Err(invalid("repetitions", "must be at least 1"));
    }
    allowed_exceptions(&input.allowed_exceptions)?;
    let sleep_ms = sleep_ms(&input.sleep_between_runs_ms)?;
    if let Some(alias) = input.auto_optimize_alias.as_ref().filter(|a| !a.is_null()) {
        let Value::String(alias) = alias else {
            return Err(invalid(
                "autoOptimizeAlias",
                format!("must be a string, found {alias}"),
            ));
        };
        check_alias(alias)?;
        if !input.auto_optimize {
            return Err(invalid(
                "autoOptimizeAlias",
                "is only used with `autoOptimize`: set it to true too",
            ));
        }
    }
    let functions = functions(input)?;
    let rounds = if input.dry_run { 1 } else { input.repetitions };
    let (sizes, counts) = (input.memory_sizes.len(), input.threads.len());
    let invocations = u64::from(rounds) * (functions.len() * sizes * counts) as u64;
    if invocations > MAX_INVOCATIONS {
        return Err(invalid(
            "repetitions",
            format!("{invocations} invocations is more than one plan may hold ({MAX_INVOCATIONS})"),
        ));
    }
    let (payloads, per_round) = spread_payloads(&input.payload, rounds)?;

    let every_size = || {
        (0..functions.len()).flat_map(|function| {
            input.memory_sizes.iter().map(move |&memory_mb| Slot {
                function,
                memory_mb,
            })
        })
    };
    // A round is a child execution on AWS: its part of the state is the same for every round
    // (the groups, once) plus a few numbers, so the plan grows with repetitions by ~60 bytes
    // each, not with rows × repetitions.
    let groups: Vec<Group> = if input.only_cold_starts {
        (0..functions.len() * sizes)
            .flat_map(|size| {
                input
                    .threads
                    .iter()
                    .enumerate()
                    .map(move |(i, &threads)| Group {
                        slot: size * counts + i,
                        threads: vec![threads],
                    })
            })
            .collect()
    } else {
        (0..functions.len() * sizes)
            .map(|slot| Group {
                slot,
                threads: input.threads.clone(),
            })
            .collect()
    };
    let per_version: Vec<Slot> = if input.only_cold_starts {
        every_size()
            .flat_map(|slot| std::iter::repeat_n(slot, counts))
            .collect()
    } else {
        every_size().collect()
    };
    let mut publish: Vec<Slot> = per_version.clone();
    let mut layout = Vec::with_capacity(rounds as usize);
    for (index, payload) in per_round.into_iter().enumerate() {
        let offset = if input.only_cold_starts {
            if index > 0 {
                publish.extend_from_slice(&per_version);
            }
            index * per_version.len()
        } else {
            0
        };
        layout.push(Round {
            round: index as u32 + 1,
            payload,
            offset,
            first: index == 0 || input.only_cold_starts,
        });
    }
    Ok(SweepLayout {
        functions,
        payloads,
        publish,
        groups,
        rounds: layout,
        sleep_seconds: sleep_ms.div_ceil(1000),
        invocations,
        discard_top_bottom: if input.only_cold_starts {
            0.0
        } else {
            input.discard_top_bottom
        },
    })
}

/// The functions to sweep: `functionNames`, or the host function of each of `architectures`,
/// or `functionName`; at most one of the first two, no name twice.
fn functions(input: &PlanInput) -> Result<Vec<String>, Error> {
    let names = match (&input.function_names, &input.architectures) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "functionNames",
                "give either `functionNames` or `architectures`, not both",
            ));
        }
        (Some(names), None) => names.clone(),
        (None, Some(architectures)) => {
            if let Some((_, twice)) = architectures
                .iter()
                .enumerate()
                .find(|(i, a)| architectures[..*i].contains(a))
            {
                return Err(invalid(
                    "architectures",
                    format!("{twice} is listed twice: each architecture is swept once"),
                ));
            }
            let mut names = Vec::with_capacity(architectures.len());
            for architecture in architectures {
                let name = input
                    .host_functions
                    .get(architecture)
                    .filter(|n| !n.is_empty() && !n.starts_with("${"));
                let Some(name) = name else {
                    let known: Vec<&str> =
                        input.host_functions.keys().map(String::as_str).collect();
                    return Err(invalid(
                        "architectures",
                        format!(
                            "no host function of architecture `{architecture}` is deployed with this state machine (hostFunctions has {})",
                            if known.is_empty() {
                                "none".to_string()
                            } else {
                                known.join(", ")
                            }
                        ),
                    ));
                };
                names.push(name.clone());
            }
            names
        }
        (None, None) => input.function_name.clone().into_iter().collect(),
    };
    if names.is_empty() {
        return Err(invalid(
            "functionNames",
            "give at least one function to sweep (functionName, functionNames or architectures)",
        ));
    }
    for (i, name) in names.iter().enumerate() {
        if name.is_empty() {
            return Err(invalid("functionNames", "a function name is empty"));
        }
        if names[..i].contains(name) {
            return Err(invalid(
                "functionNames",
                format!("`{name}` is listed twice: each function is swept once"),
            ));
        }
    }
    Ok(names)
}

/// Whether `payload` is power-tuning's weighted list: a non-empty array whose every item is
/// an object with a `payload` and a `weight` (other keys are allowed, as power-tuning allows
/// them). power-tuning reads a list with a weight of 0 as one plain payload; here it is
/// weighted and the weight refused, so a typo never becomes a literal payload.
pub fn is_weighted(payload: &Value) -> bool {
    let Value::Array(items) = payload else {
        return false;
    };
    !items.is_empty()
        && items.iter().all(|item| {
            item.as_object()
                .is_some_and(|o| o.contains_key("payload") && o.contains_key("weight"))
        })
}

/// The distinct payloads and each round's index into them.
fn spread_payloads(payload: &Value, rounds: u32) -> Result<(Vec<Value>, Vec<usize>), Error> {
    if !is_weighted(payload) {
        return Ok((vec![payload.clone()], vec![0; rounds as usize]));
    }
    let items: Vec<&Map<String, Value>> = payload
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .collect();
    let mut weights = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match item.get("weight").and_then(Value::as_f64) {
            Some(w) if w.is_finite() && w > 0.0 => weights.push(w),
            _ => {
                return Err(invalid(
                    "payload",
                    format!(
                        "weighted payload {i}: `weight` must be a number above 0, found {}",
                        item.get("weight").unwrap_or(&Value::Null)
                    ),
                ));
            }
        }
    }
    if (rounds as usize) < items.len() {
        return Err(invalid(
            "payload",
            format!(
                "{} weighted payloads need at least as many rounds, found {rounds} (the \
                 repetitions; one with dryRun)",
                items.len()
            ),
        ));
    }
    let total: f64 = weights.iter().sum();
    let mut per_round = Vec::with_capacity(rounds as usize);
    for (i, w) in weights.iter().enumerate() {
        // Every payload, the last included, must earn a round by its weight; the last then
        // takes whatever the rounding left over.
        let earned = (w * f64::from(rounds) / total).floor() as usize;
        let count = if i + 1 == weights.len() {
            rounds as usize - per_round.len()
        } else {
            earned
        };
        if earned == 0 || count == 0 {
            return Err(invalid(
                "payload",
                format!(
                    "weighted payload {i} (weight {w} of {total}) gets no round of {rounds}: \
                     raise its weight or the repetitions"
                ),
            ));
        }
        per_round.extend(std::iter::repeat_n(i, count));
    }
    let payloads = items
        .iter()
        .map(|item| item.get("payload").cloned().unwrap_or(Value::Null))
        .collect();
    Ok((payloads, per_round))
}

/// `sleepBetweenRunsMs` as a number of ms: absent or null is 0.
fn sleep_ms(value: &Value) -> Result<u64, Error> {
    match value {
        Value::Null => Ok(0),
        Value::Number(n) => match n.as_f64() {
            Some(ms) if (0.0..=86_400_000.0).contains(&ms) => Ok(ms.ceil() as u64),
            _ => Err(invalid(
                "sleepBetweenRunsMs",
                format!("must be a number of ms from 0 to 86,400,000, found {n}"),
            )),
        },
        other => Err(invalid(
            "sleepBetweenRunsMs",
            format!("must be a number of ms, found {other}"),
        )),
    }
}

/// `allowedExceptions` as a list of error names.
///
/// # Errors
/// [`Error::InvalidSetting`] unless it is a list of non-empty strings (`null` included: the
/// analysis reads a list).
pub fn allowed_exceptions(value: &Value) -> Result<Vec<String>, Error> {
    let items = match value {
        Value::Array(items) => items,
        other => {
            return Err(invalid(
                "allowedExceptions",
                format!("must be a list of error names, found {other}"),
            ));
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(s) if !s.is_empty() => Ok(s.clone()),
            other => Err(invalid(
                "allowedExceptions",
                format!("item {i} must be a non-empty error name (a string), found {other}"),
            )),
        })
        .collect()
}

/// Lambda's rule for an alias name.
///
/// # Errors
/// [`Error::InvalidSetting`] on `autoOptimizeAlias`, saying why Lambda would reject `alias`.
pub fn check_alias(alias: &str) -> Result<(), Error> {
    let reject = |reason: String| Err(invalid("autoOptimizeAlias", reason));
    if alias.is_empty() || alias.chars().count() > ALIAS_MAX_CHARS {
        return reject(format!(
            "{alias:?} must be 1 to {ALIAS_MAX_CHARS} characters long"
        ));
    }
    if let Some(c) = alias
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return reject(format!(
            "{alias:?} may hold only letters, digits, `-` and `_` (Lambda's alias names), not {c:?}"
        ));
    }
    if alias.chars().all(|c| c.is_ascii_digit()) {
        return reject(format!(
            "{alias:?} is all digits, which Lambda reads as a version number"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(extra: Value) -> PlanInput {
        let mut base = json!({"payload": {"n": 1}, "memorySizes": [512, 1024], "threads": [1, 2],
                              "repetitions": 3, "functionName": "f"});
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        serde_json::from_value(base).unwrap()
    }

    fn error(extra: Value) -> String {
        plan(&input(extra)).unwrap_err().to_string()
    }

    #[test]
    fn by_default_one_version_per_size_and_every_thread_count_in_every_round() {
        let l = plan(&input(json!({}))).unwrap();
        assert_eq!(l.functions, ["f"]);
        assert_eq!(l.publish, [slot(0, 512), slot(0, 1024)]);
        assert_eq!(l.payloads, [json!({"n": 1})]);
        assert_eq!(l.rounds.len(), 3);
        assert_eq!(l.invocations, 12);
        assert_eq!(l.sleep_seconds, 0);
        let slots: Vec<usize> = l.groups.iter().map(|g| g.slot).collect();
        assert_eq!(slots, [0, 1]);
        assert!(l.groups.iter().all(|g| g.threads == [1, 2]));
        for (i, r) in l.rounds.iter().enumerate() {
            assert_eq!(r.round, i as u32 + 1);
            assert_eq!(r.payload, 0);
            assert_eq!((r.offset, r.first), (0, i == 0));
        }
    }

    #[test]
    fn only_cold_starts_gives_every_invocation_its_own_version() {
        let l = plan(&input(json!({"onlyColdStarts": true}))).unwrap();
        assert_eq!(l.publish.len(), 12);
        assert_eq!(l.invocations, 12);
        assert!(l.rounds.iter().all(|r| r.first));
        let mut slots: Vec<usize> = l
            .rounds
            .iter()
            .flat_map(|r| l.groups.iter().map(move |g| g.slot + r.offset))
            .inspect(|&s| assert_eq!(l.publish[s].memory_mb, if s % 4 < 2 { 512 } else { 1024 }))
            .collect();
        assert!(l.groups.iter().all(|g| g.threads.len() == 1));
        slots.sort_unstable();
        assert_eq!(slots, (0..12).collect::<Vec<_>>());
        assert_eq!(
            &l.publish[..4],
            [slot(0, 512), slot(0, 512), slot(0, 1024), slot(0, 1024)]
        );
    }

    fn slot(function: usize, memory_mb: u32) -> Slot {
        Slot {
            function,
            memory_mb,
        }
    }

    #[test]
    fn each_architecture_is_its_deployed_host_function() {
        let hosts = json!({"x86_64": "host-x86", "arm64": "host-arm"});
        let l = plan(&input(
            json!({"architectures": ["x86_64", "arm64"], "hostFunctions": hosts}),
        ))
        .unwrap();
        assert_eq!(l.functions, ["host-x86", "host-arm"]);
        // Every size of every function, each round: 2 × 2 × 2 thread counts × 3 rounds.
        assert_eq!(
            l.publish,
            [slot(0, 512), slot(0, 1024), slot(1, 512), slot(1, 1024)]
        );
        assert_eq!(l.invocations, 24);
        assert_eq!(l.groups.len(), 4);
        let cold = plan(&input(
            json!({"architectures": ["arm64"], "hostFunctions": hosts,
                                      "onlyColdStarts": true}),
        ))
        .unwrap();
        assert_eq!(cold.functions, ["host-arm"]);
        assert_eq!(cold.publish.len(), 12);
        // Names given outright.
        let named = plan(&input(json!({"functionNames": ["a", "b"]}))).unwrap();
        assert_eq!(named.functions, ["a", "b"]);
    }

    #[test]
    fn functions_that_cannot_be_resolved_are_named() {
        let hosts = json!({"x86_64": "host-x86", "arm64": "${HostFunctionArm64Name}"});
        for (extra, expect) in [
            (
                json!({"architectures": ["arm64"], "hostFunctions": hosts}),
                "no host function of architecture `arm64`",
            ),
            (
                json!({"architectures": ["riscv"], "hostFunctions": hosts}),
                "hostFunctions has arm64, x86_64",
            ),
            (
                json!({"functionNames": ["a"], "architectures": ["x86_64"]}),
                "not both",
            ),
            (json!({"functionNames": ["a", "a"]}), "listed twice"),
            (
                json!({"architectures": ["arm64", "arm64"], "hostFunctions": hosts}),
                "arm64 is listed twice",
            ),
            (json!({"functionNames": []}), "at least one function"),
            (json!({"functionNames": [""]}), "empty"),
            (json!({"functionName": null}), "at least one function"),
        ] {
            let e = error(extra.clone());
            assert!(e.contains(expect), "{extra}: {e}");
        }
    }

    #[test]
    fn a_dry_run_is_one_round() {
        let l = plan(&input(json!({"dryRun": true, "repetitions": 50}))).unwrap();
        assert_eq!((l.rounds.len(), l.invocations), (1, 4));
    }

    #[test]
    fn weighted_payloads_follow_power_tunings_rule() {
        let weighted = json!([{"payload": "a", "weight": 1}, {"payload": "b", "weight": 2},
                              {"payload": "c", "weight": 1}]);
        let l = plan(&input(json!({"payload": weighted, "repetitions": 10}))).unwrap();
        assert_eq!(l.payloads, [json!("a"), json!("b"), json!("c")]);
        let used: Vec<usize> = l.rounds.iter().map(|r| r.payload).collect();
        // floor(1×10/4) = 2, floor(2×10/4) = 5, the last gets the other 3.
        assert_eq!(used, [0, 0, 1, 1, 1, 1, 1, 2, 2, 2]);
    }

    #[test]
    fn a_list_without_payload_and_weight_in_every_item_is_one_payload() {
        for p in [
            json!([]),
            json!([{"payload": 1}]),
            json!([{"payload": 1, "weight": 1}, 3]),
        ] {
            let l = plan(&input(json!({"payload": p.clone()}))).unwrap();
            assert_eq!(l.payloads, [p]);
        }
        // Other keys beside them are allowed, as power-tuning allows them.
        let named = json!([{"payload": 1, "weight": 1, "name": "small"}]);
        let l = plan(&input(json!({"payload": named}))).unwrap();
        assert_eq!(l.payloads, [json!(1)]);
    }

    #[test]
    fn cold_starts_are_not_trimmed() {
        assert_eq!(plan(&input(json!({}))).unwrap().discard_top_bottom, 0.2);
        let cold = json!({"onlyColdStarts": true, "discardTopBottom": 0.3});
        assert_eq!(plan(&input(cold)).unwrap().discard_top_bottom, 0.0);
    }

    #[test]
    fn bad_weights_are_named() {
        for (w, expect) in [
            (json!(0), "above 0"),
            (json!(-1), "above 0"),
            (json!("2"), "above 0"),
            (json!(null), "above 0"),
        ] {
            let p = json!([{"payload": 1, "weight": 1}, {"payload": 2, "weight": w}]);
            let e = error(json!({"payload": p}));
            assert!(
                e.contains("weighted payload 1") && e.contains(expect),
                "{e}"
            );
        }
        let p = json!([{"payload": 1, "weight": 1}, {"payload": 2, "weight": 1}]);
        let e = error(json!({"payload": p.clone(), "repetitions": 1}));
        assert!(e.contains("at least as many rounds"), "{e}");
        let p = json!([{"payload": 1, "weight": 1}, {"payload": 2, "weight": 100}]);
        let e = error(json!({"payload": p, "repetitions": 3}));
        assert!(
            e.contains("weighted payload 0") && e.contains("gets no round"),
            "{e}"
        );
        // The last payload must earn its round too (power-tuning checks it before it hands
        // the last one the rest).
        let p = json!([{"payload": 1, "weight": 100}, {"payload": 2, "weight": 1}]);
        let e = error(json!({"payload": p, "repetitions": 3}));
        assert!(
            e.contains("weighted payload 1") && e.contains("gets no round"),
            "{e}"
        );
    }

    #[test]
    fn sleep_is_rounded_up_to_whole_seconds_and_checked() {
        let s =
            |ms: Value| plan(&input(json!({"sleepBetweenRunsMs": ms}))).map(|l| l.sleep_seconds);
        assert_eq!(s(json!(0)).unwrap(), 0);
        assert_eq!(s(json!(1)).unwrap(), 1);
        assert_eq!(s(json!(1000)).unwrap(), 1);
        assert_eq!(s(json!(1500.5)).unwrap(), 2);
        for bad in [json!(-1), json!("100"), json!(1e12), json!([1])] {
            let e = s(bad).unwrap_err().to_string();
            assert!(e.contains("sleepBetweenRunsMs"), "{e}");
        }
    }

    #[test]
    fn allowed_exceptions_must_be_names() {
        assert_eq!(
            allowed_exceptions(&json!(["Job.guest", "Sandbox.Timedout"])).unwrap(),
            ["Job.guest", "Sandbox.Timedout"]
        );
        assert!(allowed_exceptions(&json!([])).unwrap().is_empty());
        for bad in [
            Value::Null,
            json!("Job.guest"),
            json!([1]),
            json!([""]),
            json!([null]),
            json!({}),
        ] {
            let e = error(json!({"allowedExceptions": bad}));
            assert!(e.contains("allowedExceptions"), "{e}");
        }
    }

    #[test]
    fn alias_names_follow_lambda() {
        for good in ["live", "prod-2", "a_b", "v1"] {
            assert!(check_alias(good).is_ok(), "{good}");
            plan(&input(
                json!({"autoOptimize": true, "autoOptimizeAlias": good}),
            ))
            .unwrap();
        }
        let long = "a".repeat(129);
        for bad in ["", "42", "has space", "dot.ted", "ünï", long.as_str()] {
            let e = error(json!({"autoOptimize": true, "autoOptimizeAlias": bad}));
            assert!(e.contains("autoOptimizeAlias"), "{bad}: {e}");
        }
        let e = error(json!({"autoOptimize": true, "autoOptimizeAlias": 7}));
        assert!(e.contains("must be a string"), "{e}");
        let e = error(json!({"autoOptimizeAlias": "live"}));
        assert!(e.contains("only used with `autoOptimize`"), "{e}");
        // null is no alias, as the state machine's HasAlias reads it.
        plan(&input(
            json!({"autoOptimize": true, "autoOptimizeAlias": null}),
        ))
        .unwrap();
    }

    #[test]
    fn empty_lists_zero_repetitions_and_huge_plans_are_refused() {
        assert!(error(json!({"memorySizes": []})).contains("memorySizes"));
        assert!(error(json!({"threads": []})).contains("threads"));
        assert!(error(json!({"repetitions": 0})).contains("repetitions"));
        assert!(error(json!({"repetitions": 4_000_000_000u32})).contains("more than one plan"));
    }
}

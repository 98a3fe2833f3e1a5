//! The I/O latency model: how long a host call to a real service would wait, per call kind.
//!
//! Locally the service is a stand-in (moto answers one request at a time, from this machine),
//! so its answer times say nothing about DynamoDB in a region. The model replaces the *wait*
//! of each I/O call with a sample from a latency distribution for the real service; the CPU
//! the host spent on the call is kept. It changes times, never data: the calls really happen.
//!
//! Each kind's distribution is log-normal, given by its median and 99th percentile. Samples
//! are deterministic: call `k` of a job (counted over the plan, then each task in order) takes
//! the quantile `frac(0.5 + k·φ)` (φ the golden ratio's fractional part), a low-discrepancy
//! sequence whose mean converges to the distribution's mean within a few dozen calls, so the
//! same job gives the same time in every run.
//!
//! Must not read files or the command line itself: callers hand in text ([`LatencyModel::parse`]).

use crate::work::CallKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One kind's latency: log-normal with this median and 99th percentile, ms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Latency {
    /// Median, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms (equal to the median: a constant).
    pub p99_ms: f64,
}

/// DynamoDB `PutItem` of one small item, timed by the client in a Lambda function in the
/// same region on a warm connection. Measured by Alex DeBrie (us-east-1, boto3, ~4,000 calls,
/// 2020; <https://github.com/alexdebrie/dynamodb-performance-testing>, "Results":
/// `| PutItem | 5.47 | 7.55 | 11.3 | 13.2 | 16.2 | 29 |` for min, p50, p90, p95, p99, max).
/// The log-normal through p50 and p99 gives p90 11.5 and p95 13.0 against the measured 11.3
/// and 13.2. AWS itself says only "single-digit millisecond" and that its
/// `SuccessfulRequestLatency` metric leaves out the network and the client.
pub const DYNAMODB_PUT_ITEM: Latency = Latency {
    p50_ms: 7.55,
    p99_ms: 16.2,
};

/// DynamoDB `BatchWriteItem` of 25 small items, same benchmark:
/// `| BatchWrite - 25 items | 7.96 | 10.2 | 16 | 18 | 27.6 | 76.4 |`. The items are written in
/// parallel inside the service, so a batch of 25 costs about 1.4 puts, not 25.
pub const DYNAMODB_BATCH_PUT: Latency = Latency {
    p50_ms: 10.2,
    p99_ms: 27.6,
};

/// How the waits of host calls are modeled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "mode")]
pub enum LatencyModel {
    /// Keep what the local stand-in answered in.
    Measured,
    /// Replace the waits of these kinds; other kinds keep their measured time.
    Modeled {
        /// Distribution per I/O kind.
        kinds: BTreeMap<CallKind, Latency>,
    },
}

impl Default for LatencyModel {
    /// DynamoDB in-region, from published figures.
    fn default() -> Self {
        LatencyModel::Modeled {
            kinds: BTreeMap::from([
                (CallKind::PutItem, DYNAMODB_PUT_ITEM),
                (CallKind::BatchPut, DYNAMODB_BATCH_PUT),
            ]),
        }
    }
}

/// Why a latency model was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LatencyError {
    /// A key that is not an I/O call kind.
    #[error("unknown latency key `{key}`: use one of {}", io_names())]
    UnknownKind {
        /// The key as given.
        key: String,
    },
    /// A value that is not a number of ms.
    #[error("latency of `{key}` is not a number of ms: `{value}`")]
    NotANumber {
        /// The kind.
        key: String,
        /// The value as given.
        value: String,
    },
    /// A negative, zero or infinite latency, or one longer than any invocation.
    #[error(
        "latency of `{key}` must be a positive number of ms up to {MAX_LATENCY_MS} (Lambda's longest invocation), got {value:?}"
    )]
    OutOfRange {
        /// The kind.
        key: String,
        /// The value.
        value: f64,
    },
    /// p99 below the median.
    #[error("latency of `{key}`: p99 {p99_ms} ms is below the median {p50_ms} ms")]
    TailBelowMedian {
        /// The kind.
        key: String,
        /// Median given.
        p50_ms: f64,
        /// p99 given.
        p99_ms: f64,
    },
    /// Text that is none of the accepted forms.
    #[error("{0}")]
    Syntax(String),
}

fn io_names() -> String {
    CallKind::IO
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl LatencyModel {
    /// Parses the command line's form: `default`, `measured`, a JSON object
    /// (`{"put-item": {"p50Ms": 5, "p99Ms": 12}}`, as in a file), or overrides of the
    /// default as `KIND=P50[/P99],…` in ms (`put-item=5/12,batch-put=10`).
    ///
    /// # Errors
    /// Unknown kinds, values that are not positive numbers, a p99 below its median.
    pub fn parse(text: &str) -> Result<Self, LatencyError> {
        let text = text.trim();
        match text {
            "default" => return Ok(Self::default()),
            "measured" => return Ok(Self::Measured),
            "" => return Err(LatencyError::Syntax("an empty latency model".into())),
            _ => {}
        }
        let mut kinds = match Self::default() {
            Self::Modeled { kinds } => kinds,
            Self::Measured => BTreeMap::new(),
        };
        if text.starts_with('{') {
            let object: BTreeMap<String, serde_json::Value> = serde_json::from_str(text)
                .map_err(|e| LatencyError::Syntax(format!("latency model JSON: {e}")))?;
            for (key, value) in object {
                let kind = io_kind(&key)?;
                let number = |field: &str| -> Result<Option<f64>, LatencyError> {
                    match value.get(field) {
                        None => Ok(None),
                        Some(v) => v.as_f64().map(Some).ok_or(LatencyError::NotANumber {
                            key: key.clone(),
                            value: v.to_string(),
                        }),
                    }
                };
                let p50 = number("p50Ms")?.ok_or_else(|| {
                    LatencyError::Syntax(format!("latency of `{key}` needs `p50Ms` (and `p99Ms`)"))
                })?;
                let p99 = number("p99Ms")?.unwrap_or(p50);
                if let Some(other) = value
                    .as_object()
                    .and_then(|o| o.keys().find(|k| *k != "p50Ms" && *k != "p99Ms"))
                {
                    return Err(LatencyError::Syntax(format!(
                        "latency of `{key}`: unknown field `{other}` (use p50Ms, p99Ms)"
                    )));
                }
                kinds.insert(kind, checked(&key, p50, p99)?);
            }
        } else {
            for item in text.split(',') {
                let (key, value) = item.split_once('=').ok_or_else(|| {
                    LatencyError::Syntax(format!(
                        "`{item}`: expected KIND=P50[/P99] in ms, `default`, `measured` or JSON"
                    ))
                })?;
                let key = key.trim();
                let kind = io_kind(key)?;
                let (p50, p99) = match value.split_once('/') {
                    Some((a, b)) => (ms(key, a)?, ms(key, b)?),
                    None => {
                        let v = ms(key, value)?;
                        (v, v)
                    }
                };
                kinds.insert(kind, checked(key, p50, p99)?);
            }
        }
        Ok(Self::Modeled { kinds })
    }

    /// One line saying what the model is, for results and tables.
    pub fn describe(&self) -> String {
        match self {
            Self::Measured => "measured (what the local service answered in)".into(),
            Self::Modeled { kinds } => {
                let parts: Vec<String> = kinds
                    .iter()
                    .map(|(k, l)| format!("{k} p50 {} ms p99 {} ms", l.p50_ms, l.p99_ms))
                    .collect();
                format!("log-normal per call: {}", parts.join(", "))
            }
        }
    }

    /// The modeled wait of `count` calls of `kind`, the first being call number `ordinal` of
    /// the job; `None` when this kind keeps its measured time.
    pub fn wait_ms(&self, kind: CallKind, count: u32, ordinal: u64) -> Option<f64> {
        let Self::Modeled { kinds } = self else {
            return None;
        };
        let latency = kinds.get(&kind)?;
        Some(
            (0..u64::from(count))
                .map(|i| latency.quantile(golden(ordinal + i)))
                .sum(),
        )
    }
}

impl Latency {
    /// The log-normal's quantile at `u` in (0, 1), cut at [`MAX_LATENCY_MS`]: the far tail of
    /// a wide distribution would otherwise outlast any invocation (or overflow a duration).
    pub fn quantile(&self, u: f64) -> f64 {
        let mu = self.p50_ms.ln();
        let sigma = (self.p99_ms.ln() - mu) / Z_99;
        (mu + sigma * inverse_normal_cdf(u))
            .exp()
            .min(MAX_LATENCY_MS)
    }

    /// The distribution's mean, ms.
    pub fn mean_ms(&self) -> f64 {
        let sigma = (self.p99_ms.ln() - self.p50_ms.ln()) / Z_99;
        self.p50_ms * (sigma * sigma / 2.0).exp()
    }
}

/// The standard normal's 99th percentile.
const Z_99: f64 = 2.326_347_874_040_841;

/// `frac(0.5 + k·φ)`, kept inside (0.001, 0.999) so no single call lands in the far tail.
fn golden(k: u64) -> f64 {
    const PHI_FRAC: f64 = 0.618_033_988_749_894_9;
    let u = (0.5 + (k as f64) * PHI_FRAC).fract();
    u.clamp(0.001, 0.999)
}

/// Acklam's rational approximation of the standard normal quantile (relative error below
/// 1.2e-9), written here rather than taken from a statistics crate: it is the only function
/// of one that we need.
fn inverse_normal_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const LOW: f64 = 0.02425;
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - LOW {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

fn io_kind(key: &str) -> Result<CallKind, LatencyError> {
    CallKind::IO
        .into_iter()
        .find(|k| k.name() == key)
        .ok_or_else(|| LatencyError::UnknownKind {
            key: key.to_string(),
        })
}

fn ms(key: &str, text: &str) -> Result<f64, LatencyError> {
    let text = text.trim();
    let text = text.strip_suffix("ms").unwrap_or(text);
    text.parse::<f64>().map_err(|_| LatencyError::NotANumber {
        key: key.to_string(),
        value: text.to_string(),
    })
}

/// The longest latency a call may be given: no call outlives Lambda's longest invocation
/// (and a larger one would overflow the durations it is turned into).
pub const MAX_LATENCY_MS: f64 = *crate::lambda::TIMEOUT_RANGE_S.end() as f64 * 1e3;

fn checked(key: &str, p50_ms: f64, p99_ms: f64) -> Result<Latency, LatencyError> {
    for value in [p50_ms, p99_ms] {
        if !(value > 0.0 && value <= MAX_LATENCY_MS) {
            return Err(LatencyError::OutOfRange {
                key: key.to_string(),
                value,
            });
        }
    }
    if p99_ms < p50_ms {
        return Err(LatencyError::TailBelowMedian {
            key: key.to_string(),
            p50_ms,
            p99_ms,
        });
    }
    Ok(Latency { p50_ms, p99_ms })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_hit_the_given_median_and_tail() {
        let l = DYNAMODB_PUT_ITEM;
        assert!((l.quantile(0.5) - 7.55).abs() < 1e-6);
        assert!((l.quantile(0.99) - 16.2).abs() < 1e-4);
        assert!(
            (l.quantile(0.9) - 11.5).abs() < 0.1,
            "the fit meets the measured p90"
        );
        assert!((inverse_normal_cdf(0.975) - 1.959_963_985).abs() < 1e-8);
        assert!((inverse_normal_cdf(0.001) + 3.090_232_306).abs() < 1e-7);
    }

    #[test]
    fn samples_are_deterministic_and_average_to_the_mean() {
        let model = LatencyModel::default();
        let a = model.wait_ms(CallKind::PutItem, 100, 0).unwrap();
        let b = model.wait_ms(CallKind::PutItem, 100, 0).unwrap();
        assert_eq!(a, b);
        let mean = DYNAMODB_PUT_ITEM.mean_ms();
        assert!(
            (a / 100.0 - mean).abs() / mean < 0.03,
            "{} vs {mean}",
            a / 100.0
        );
        assert_eq!(model.wait_ms(CallKind::Log, 1, 0), None);
        assert_eq!(
            LatencyModel::Measured.wait_ms(CallKind::PutItem, 1, 0),
            None
        );
    }

    #[test]
    fn latencies_past_the_longest_invocation_are_refused() {
        for text in [
            "put-item=1e300",
            "put-item=1/1e300",
            "put-item=900001",
            "put-item=NaN",
        ] {
            let err = LatencyModel::parse(text).unwrap_err().to_string();
            assert!(err.contains("up to 900000"), "{text}: {err}");
        }
        assert!(LatencyModel::parse("put-item=900000").is_ok());
    }

    proptest::proptest! {
        #[test]
        fn every_accepted_latency_gives_bounded_finite_samples(
            p50 in 1e-9f64..=MAX_LATENCY_MS,
            tail in 1.0f64..1e12,
            u in 1e-300f64..1.0,
        ) {
            let p99 = (p50 * tail).min(MAX_LATENCY_MS);
            let latency = checked("put-item", p50, p99).unwrap();
            let x = latency.quantile(u);
            proptest::prop_assert!((0.0..=MAX_LATENCY_MS).contains(&x), "{x}");
        }
    }

    #[test]
    fn parse_accepts_each_form() {
        assert_eq!(
            LatencyModel::parse("default").unwrap(),
            LatencyModel::default()
        );
        assert_eq!(
            LatencyModel::parse(" measured ").unwrap(),
            LatencyModel::Measured
        );
        let LatencyModel::Modeled { kinds } = LatencyModel::parse("put-item=3/9ms").unwrap() else {
            panic!()
        };
        assert_eq!(
            kinds[&CallKind::PutItem],
            Latency {
                p50_ms: 3.0,
                p99_ms: 9.0
            }
        );
        assert_eq!(
            kinds[&CallKind::BatchPut],
            DYNAMODB_BATCH_PUT,
            "others keep the default"
        );
        let LatencyModel::Modeled { kinds } =
            LatencyModel::parse(r#"{"batch-put": {"p50Ms": 20}}"#).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            kinds[&CallKind::BatchPut],
            Latency {
                p50_ms: 20.0,
                p99_ms: 20.0
            }
        );
    }

    #[test]
    fn parse_rejects_bad_input_with_the_reason() {
        let err = |t: &str| LatencyModel::parse(t).unwrap_err().to_string();
        assert!(err("get-item=5").contains("unknown latency key `get-item`"));
        assert!(err("get-item=5").contains("`put-item`, `batch-put`"));
        assert!(err("log=5").contains("unknown latency key `log`"));
        assert!(err("put-item=-3").contains("positive"));
        assert!(err("put-item=0").contains("positive"));
        assert!(err("put-item=fast").contains("not a number"));
        assert!(err("put-item=5/2").contains("below the median"));
        assert!(err("put-item").contains("KIND=P50"));
        assert!(err(r#"{"put-item": {"p50Ms": "5"}}"#).contains("not a number"));
        assert!(err(r#"{"put-item": {"p50": 5}}"#).contains("p50Ms"));
        assert!(err(r#"{"put-item": {"p50Ms": 5, "p90Ms": 7}}"#).contains("unknown field"));
        assert!(err("{").contains("JSON"));
        assert!(err("").contains("empty"));
    }
}

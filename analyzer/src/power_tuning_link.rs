//! The lambda-power-tuning.show link: encoding a sweep in the site's URL format, and the
//! decoder that proves the link carries our numbers. It owns the wire format; it must not
//! choose which rows go in (that is `analyze.rs`).
//!
//! # The format
//! Everything is in the URL fragment, which browsers never send to the server. Read from
//! the site's source, github.com/matteo-ronchetti/aws-lambda-power-tuning-ui (`src/app.js`:
//! `parseHash`, `HASH_DELIM = ';'`, `COMPARISON_HASH_LEN = 8`; `src/encode.js`) and the
//! encoder in github.com/alexcasalboni/aws-lambda-power-tuning (`lambda/utils.js`,
//! `buildVisualizationURL`):
//!
//! - one series is three fields joined by `;`: memory sizes as an `Int16Array`, times (ms)
//!   as a `Float32Array`, costs (USD per invocation) as a `Float32Array`, each the array's
//!   raw bytes (little-endian, as typed arrays are on every platform the site runs on) in
//!   standard base64 with `=` padding;
//! - a comparison is eight fields: series one (3), series two (3), then the two legends,
//!   each passed through JavaScript's `encodeURIComponent`.
//!
//! Sizes are 16-bit integers, not floats, in the site's decoder; Lambda's largest size,
//! 10,240 MB, fits.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Where the site lives; aws-lambda-power-tuning's default `visualizationURL`.
pub const BASE_URL: &str = "https://lambda-power-tuning.show/";

/// One line of the chart: a name and three parallel columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend, e.g. `1 thread`.
    pub label: String,
    /// Memory sizes, MB, ascending.
    pub memory_mb: Vec<u32>,
    /// Time per memory size, ms.
    pub times_ms: Vec<f64>,
    /// Cost per invocation per memory size, USD.
    pub costs_usd: Vec<f64>,
}

/// One series as the site reads it back (with the precision of its typed arrays).
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedSeries {
    /// Legend; empty in a single-series URL.
    pub label: String,
    /// Memory sizes, MB.
    pub memory_mb: Vec<i16>,
    /// Times, ms.
    pub times_ms: Vec<f32>,
    /// Costs, USD.
    pub costs_usd: Vec<f32>,
}

/// What a visualization URL holds.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedPowerTuningLink {
    /// The first (or only) series.
    pub first: DecodedSeries,
    /// The comparison series, in an eight-field URL.
    pub second: Option<DecodedSeries>,
}

/// Why a URL is not a visualization URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PowerTuningLinkError {
    /// No `#` fragment.
    #[error("the URL has no `#` fragment")]
    NoFragment,
    /// Not 3 or 8 `;`-separated fields.
    #[error("expected 3 or 8 `;`-separated fields, found {0}")]
    FieldCount(usize),
    /// A field is not valid base64.
    #[error("field {field} is not base64: {source}")]
    Base64 {
        /// 0-based field index.
        field: usize,
        /// The decoder's complaint.
        source: base64::DecodeError,
    },
    /// A field's byte length is not a multiple of its element size.
    #[error("field {field} has {len} bytes, not a multiple of {width}")]
    Length {
        /// 0-based field index.
        field: usize,
        /// Bytes found.
        len: usize,
        /// Element size.
        width: usize,
    },
    /// Sizes, times and costs of one series differ in length.
    #[error("a series has {sizes} sizes, {times} times and {costs} costs")]
    Ragged {
        /// Sizes.
        sizes: usize,
        /// Times.
        times: usize,
        /// Costs.
        costs: usize,
    },
    /// A legend is not valid percent-encoded UTF-8.
    #[error("legend {0} is not valid percent-encoded UTF-8")]
    Legend(usize),
}

/// The URL for `first`, compared with `second` when given.
///
/// Memory sizes above `i16::MAX` (beyond Lambda's range) are clamped; values are
/// narrowed to `f32`, as the site stores them.
pub fn encode_url(base: &str, first: &Series, second: Option<&Series>) -> String {
    let mut fields = encode_series(first);
    if let Some(second) = second {
        fields.extend(encode_series(second));
        fields.push(encode_uri_component(&first.label));
        fields.push(encode_uri_component(&second.label));
    }
    format!("{base}#{}", fields.join(";"))
}

fn encode_series(series: &Series) -> Vec<String> {
    let sizes: Vec<u8> = series
        .memory_mb
        .iter()
        .flat_map(|mb| i16::try_from(*mb).unwrap_or(i16::MAX).to_le_bytes())
        .collect();
    let floats = |values: &[f64]| -> Vec<u8> {
        values
            .iter()
            .flat_map(|v| (*v as f32).to_le_bytes())
            .collect()
    };
    vec![
        STANDARD.encode(sizes),
        STANDARD.encode(floats(&series.times_ms)),
        STANDARD.encode(floats(&series.costs_usd)),
    ]
}

/// Reads a visualization URL back, the way the site's `parseHash` does.
///
/// # Errors
/// [`PowerTuningLinkError`] naming the first field that does not decode.
pub fn decode_url(url: &str) -> Result<DecodedPowerTuningLink, PowerTuningLinkError> {
    let (_, fragment) = url
        .split_once('#')
        .ok_or(PowerTuningLinkError::NoFragment)?;
    let fields: Vec<&str> = fragment.split(';').collect();
    match fields.len() {
        3 => Ok(DecodedPowerTuningLink {
            first: decode_series(&fields, 0, String::new())?,
            second: None,
        }),
        8 => {
            let legend = |i: usize| {
                decode_uri_component(fields[i]).ok_or(PowerTuningLinkError::Legend(i - 6))
            };
            Ok(DecodedPowerTuningLink {
                first: decode_series(&fields, 0, legend(6)?)?,
                second: Some(decode_series(&fields, 3, legend(7)?)?),
            })
        }
        n => Err(PowerTuningLinkError::FieldCount(n)),
    }
}

fn decode_series(
    fields: &[&str],
    at: usize,
    label: String,
) -> Result<DecodedSeries, PowerTuningLinkError> {
    let bytes = |field: usize, width: usize| -> Result<Vec<u8>, PowerTuningLinkError> {
        let raw = STANDARD
            .decode(fields[field])
            .map_err(|source| PowerTuningLinkError::Base64 { field, source })?;
        if raw.len() % width != 0 {
            return Err(PowerTuningLinkError::Length {
                field,
                len: raw.len(),
                width,
            });
        }
        Ok(raw)
    };
    let memory_mb: Vec<i16> = bytes(at, 2)?
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    let floats = |field: usize| -> Result<Vec<f32>, PowerTuningLinkError> {
        Ok(bytes(field, 4)?
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    };
    let times_ms = floats(at + 1)?;
    let costs_usd = floats(at + 2)?;
    if memory_mb.len() != times_ms.len() || times_ms.len() != costs_usd.len() {
        return Err(PowerTuningLinkError::Ragged {
            sizes: memory_mb.len(),
            times: times_ms.len(),
            costs: costs_usd.len(),
        });
    }
    Ok(DecodedSeries {
        label,
        memory_mb,
        times_ms,
        costs_usd,
    })
}

/// JavaScript's `encodeURIComponent`: everything but `A–Z a–z 0–9 - _ . ! ~ * ' ( )` is
/// percent-encoded as UTF-8 bytes, upper-case hex.
fn encode_uri_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// JavaScript's `decodeURIComponent`; `None` on a bad escape or invalid UTF-8.
fn decode_uri_component(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'%' {
            let hex = tail.get(..2)?;
            let hex = std::str::from_utf8(hex).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(first);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_url_published_by_aws_lambda_power_tuning() {
        // A result link from a public README, made by aws-lambda-power-tuning itself.
        // Sizes: bytes 80 00 | 00 01 | 00 02 | 00 04 | 00 08 | C0 0B, little-endian Int16
        // = 128, 256, 512, 1024, 2048, 3008. Times ≈ 1.1 ms each. Costs follow
        // power-tuning's ceil(ms) × $0.0000000021 per 128 MB-ms: at 128 MB, ceil(1.128) = 2 ms
        // → 4.2e-9; at 256 MB, 2 × 2 × 2.1e-9 = 8.4e-9.
        let url = "https://lambda-power-tuning.show/#gAAAAQACAAQACMAL;Om2QPwc6jT/otJE/w/WIP83MjD9qA50/;l0+QMZdPEDKXT5Ayl08QM5dPkDPm9NMz";
        let decoded = decode_url(url).unwrap();
        assert_eq!(decoded.first.memory_mb, [128, 256, 512, 1024, 2048, 3008]);
        assert!((decoded.first.times_ms[0] - 1.128_333).abs() < 1e-5);
        assert!(
            decoded
                .first
                .times_ms
                .iter()
                .all(|t| (1.0..1.3).contains(t))
        );
        assert!((decoded.first.costs_usd[0] - 4.2e-9).abs() < 1e-15);
        assert!((decoded.first.costs_usd[1] - 8.4e-9).abs() < 1e-15);
        assert_eq!(decoded.second, None);
    }

    #[test]
    fn comparison_round_trips() {
        let one = Series {
            label: "1 thread".into(),
            memory_mb: vec![512, 1024, 10240],
            times_ms: vec![400.5, 210.25, 120.125],
            costs_usd: vec![0.000_004_2, 0.000_003_6, 0.000_016],
        };
        let two = Series {
            label: "2 threads; ünï".into(),
            memory_mb: vec![1024, 10240],
            times_ms: vec![111.0, 61.5],
            costs_usd: vec![0.000_002, 0.000_009],
        };
        let url = encode_url(BASE_URL, &one, Some(&two));
        assert!(url.starts_with("https://lambda-power-tuning.show/#"));
        // The legend's `;` must not split the fragment.
        assert_eq!(url.split(';').count(), 8, "{url}");
        assert!(
            url.ends_with(";1%20thread;2%20threads%3B%20%C3%BCn%C3%AF"),
            "{url}"
        );
        let back = decode_url(&url).unwrap();
        for (series, decoded) in [(&one, &back.first), (&two, back.second.as_ref().unwrap())] {
            assert_eq!(decoded.label, series.label);
            let sizes: Vec<i16> = series.memory_mb.iter().map(|m| *m as i16).collect();
            assert_eq!(decoded.memory_mb, sizes);
            let f32s = |v: &[f64]| v.iter().map(|x| *x as f32).collect::<Vec<_>>();
            assert_eq!(decoded.times_ms, f32s(&series.times_ms));
            assert_eq!(decoded.costs_usd, f32s(&series.costs_usd));
        }
    }

    #[test]
    fn single_series_by_hand() {
        // 128 → 80 00; 1.0f32 → 00 00 80 3F; 0.5f32 → 00 00 00 3F
        // base64(80 00) = "gAA=", base64(00 00 80 3F) = "AACAPw==", base64(00 00 00 3F) = "AAAAPw=="
        let series = Series {
            label: String::new(),
            memory_mb: vec![128],
            times_ms: vec![1.0],
            costs_usd: vec![0.5],
        };
        assert_eq!(
            encode_url("https://x/", &series, None),
            "https://x/#gAA=;AACAPw==;AAAAPw=="
        );
    }

    #[test]
    fn malformed_urls_are_rejected() {
        assert!(matches!(
            decode_url("https://x/"),
            Err(PowerTuningLinkError::NoFragment)
        ));
        assert!(matches!(
            decode_url("https://x/#a;b"),
            Err(PowerTuningLinkError::FieldCount(2))
        ));
        assert!(matches!(
            decode_url("https://x/#!!;AACAPw==;AAAAPw=="),
            Err(PowerTuningLinkError::Base64 { field: 0, .. })
        ));
        assert!(matches!(
            decode_url("https://x/#gAA=;AACA;AAAAPw=="),
            Err(PowerTuningLinkError::Length {
                field: 1,
                len: 3,
                width: 4
            })
        ));
        assert!(matches!(
            decode_url("https://x/#gAAAAQ==;AACAPw==;AAAAPw=="),
            Err(PowerTuningLinkError::Ragged {
                sizes: 2,
                times: 1,
                costs: 1
            })
        ));
    }

    #[test]
    fn uri_component_matches_javascript() {
        assert_eq!(
            encode_uri_component("a-b_c.d!e~f*g'h(i)j"),
            "a-b_c.d!e~f*g'h(i)j"
        );
        assert_eq!(encode_uri_component("1 thread/;#"), "1%20thread%2F%3B%23");
        assert_eq!(decode_uri_component("%E2%9C%93"), Some("✓".into()));
        assert_eq!(decode_uri_component("%E2%9C"), None);
        assert_eq!(decode_uri_component("%4"), None);
    }
}

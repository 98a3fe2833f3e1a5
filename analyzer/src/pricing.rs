//! Lambda prices by region and architecture, and the cost of one invocation. It owns the
//! price table and the billing rule; it must not fetch prices (the table is data we
//! checked, and the output says when it had to fall back).

pub use powersweep_model::lambda::Architecture;

/// The region whose prices stand in for any region not in [`PRICES`].
pub const FALLBACK_REGION: &str = "us-east-1";

/// Request charge, USD per request ($0.20 per million) in every region of [`PRICES`].
pub const REQUEST_USD: f64 = 0.20 / 1_000_000.0;

/// USD per GB-second, first pricing tier, on-demand: `(region, x86_64, arm64)`.
///
/// Only regions whose price we know to be the us-east-1 price are listed (source:
/// aws.amazon.com/lambda/pricing, first tier; the same figures aws-lambda-power-tuning
/// uses as its default). Others fall back to us-east-1 and [`Pricing::note`] says so.
/// Later tiers (beyond 6 billion GB-s a month) and the free tier are ignored.
pub const PRICES: &[(&str, f64, f64)] = &[
    ("us-east-1", 0.000_016_666_7, 0.000_013_333_4),
    ("us-east-2", 0.000_016_666_7, 0.000_013_333_4),
    ("us-west-2", 0.000_016_666_7, 0.000_013_333_4),
    ("eu-west-1", 0.000_016_666_7, 0.000_013_333_4),
];

/// The prices that apply to one sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Pricing {
    /// The region asked for.
    pub region: String,
    /// The region whose prices are used (differs when `region` is not in the table).
    pub price_region: String,
    /// The architecture.
    pub architecture: Architecture,
    /// USD per GB-second.
    pub gb_second_usd: f64,
    /// USD per request.
    pub request_usd: f64,
    /// Set when the region was not in the table and us-east-1 prices were used.
    pub note: Option<String>,
}

impl Pricing {
    /// The prices for `region` (us-east-1 when `None`) and `architecture`.
    pub fn lookup(region: Option<&str>, architecture: Architecture) -> Pricing {
        let asked = region.unwrap_or(FALLBACK_REGION);
        let (price_region, note) = match PRICES.iter().find(|(r, _, _)| *r == asked) {
            Some(_) => (asked, None),
            None => (
                FALLBACK_REGION,
                Some(format!(
                    "no price known for region {asked}; costs use {FALLBACK_REGION} prices"
                )),
            ),
        };
        // FALLBACK_REGION is in PRICES, so the second lookup cannot miss; the zeros are
        // only there to avoid a panic path.
        let (x86, arm) = PRICES
            .iter()
            .find(|(r, _, _)| *r == price_region)
            .map(|(_, x86, arm)| (*x86, *arm))
            .unwrap_or((0.0, 0.0));
        Pricing {
            region: asked.to_owned(),
            price_region: price_region.to_owned(),
            architecture,
            gb_second_usd: match architecture {
                Architecture::X86_64 => x86,
                Architecture::Arm64 => arm,
            },
            request_usd: REQUEST_USD,
            note,
        }
    }

    /// Billed duration of a run of `duration_ms`: Lambda bills in 1 ms steps, rounded
    /// up, and at least 1 ms.
    pub fn billed_ms(duration_ms: f64) -> u64 {
        (duration_ms.ceil() as u64).max(1)
    }

    /// Cost of one invocation, USD: `GB-s price × memory GB × billed s + request charge`,
    /// with GB = MB / 1024 as Lambda counts it (128 MB = 0.125 GB).
    /// `billed_ms` may be a mean of billed durations (each a whole ms), hence a float.
    pub fn cost_per_invocation(&self, memory_mb: u32, billed_ms: f64) -> f64 {
        self.gb_second_usd * (f64::from(memory_mb) / 1024.0) * (billed_ms / 1000.0)
            + self.request_usd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1e-12)
    }

    #[test]
    fn billing_rounds_up_to_whole_ms() {
        assert_eq!(Pricing::billed_ms(120.0), 120);
        assert_eq!(Pricing::billed_ms(120.0001), 121);
        assert_eq!(Pricing::billed_ms(0.2), 1);
        assert_eq!(Pricing::billed_ms(0.0), 1);
    }

    #[test]
    fn costs_by_hand() {
        let arm = Pricing::lookup(Some("us-east-1"), Architecture::Arm64);
        // 1024 MB = 1 GB, 120 ms = 0.12 s: 0.0000133334 × 1 × 0.12 = 0.000001600008
        // + 0.0000002 request = 0.000001800008
        assert!(close(
            arm.cost_per_invocation(1024, 120.0),
            0.000_001_800_008
        ));
        let x86 = Pricing::lookup(Some("us-east-1"), Architecture::X86_64);
        // 512 MB = 0.5 GB, 1000 ms = 1 s: 0.0000166667 × 0.5 × 1 = 0.00000833335
        // + 0.0000002 = 0.00000853335
        assert!(close(
            x86.cost_per_invocation(512, 1000.0),
            0.000_008_533_35
        ));
        // 128 MB = 0.125 GB, 1 ms: 0.0000166667 × 0.125 × 0.001 = 0.0000000020833375
        // + 0.0000002 = 0.0000002020833375
        assert!(close(
            x86.cost_per_invocation(128, 1.0),
            0.000_000_202_083_337_5
        ));
    }

    #[test]
    fn unknown_region_falls_back_and_says_so() {
        let p = Pricing::lookup(Some("ap-south-2"), Architecture::Arm64);
        assert_eq!(p.price_region, "us-east-1");
        assert_eq!(p.region, "ap-south-2");
        assert!(p.note.as_deref().unwrap_or("").contains("ap-south-2"));
        let known = Pricing::lookup(Some("eu-west-1"), Architecture::X86_64);
        assert_eq!(
            (known.price_region.as_str(), known.note),
            ("eu-west-1", None)
        );
        assert_eq!(
            Pricing::lookup(None, Architecture::Arm64).price_region,
            "us-east-1"
        );
    }

    #[test]
    fn architecture_spells_like_lambda() {
        assert_eq!(
            serde_json::to_string(&Architecture::X86_64).unwrap(),
            "\"x86_64\""
        );
        assert_eq!(
            serde_json::from_str::<Architecture>("\"arm64\"").unwrap(),
            Architecture::Arm64
        );
    }
}

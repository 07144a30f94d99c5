//! Customer value (客户资产管理, CAM): a customer's monthly contribution series, its trend (the
//! least-squares slope over the months) and a value score (the percentile of its twelve months'
//! contribution among the customers of its kind), so that a customer is read as an asset that
//! grows or shrinks, not as one number.

/// Which way the contribution is going.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    Rising,
    Steady,
    Falling,
}

impl Trend {
    pub fn code(self) -> &'static str {
        match self {
            Trend::Rising => "rising",
            Trend::Steady => "steady",
            Trend::Falling => "falling",
        }
    }

    pub fn parse(code: &str) -> Result<Self, crate::ParseError> {
        [Trend::Rising, Trend::Steady, Trend::Falling]
            .into_iter()
            .find(|t| t.code() == code)
            .ok_or_else(|| {
                crate::ParseError::not_one_of("trend", code, &["rising", "steady", "falling"])
            })
    }

    pub fn zh(self) -> &'static str {
        match self {
            Trend::Rising => "上升",
            Trend::Steady => "平稳",
            Trend::Falling => "下降",
        }
    }
}

/// The least-squares slope of a series against its index (fen per month); `None` under two points.
pub fn slope(series: &[i64]) -> Option<f64> {
    let n = series.len();
    if n < 2 {
        return None;
    }
    let n_f = n as f64;
    let mean_x = (n_f - 1.0) / 2.0;
    let mean_y = series.iter().map(|&y| y as f64).sum::<f64>() / n_f;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (x, &y) in series.iter().enumerate() {
        let dx = x as f64 - mean_x;
        sxy += dx * (y as f64 - mean_y);
        sxx += dx * dx;
    }
    Some(sxy / sxx)
}

/// Rising or falling when the slope moves the monthly mean by more than `percent` % a month;
/// a series that is zero throughout is steady.
pub fn trend(series: &[i64], percent: f64) -> Trend {
    let Some(slope) = slope(series) else {
        return Trend::Steady;
    };
    let mean = series.iter().map(|&y| y as f64).sum::<f64>() / series.len() as f64;
    let scale = mean.abs().max(1.0);
    if slope > scale * percent / 100.0 {
        Trend::Rising
    } else if slope < -scale * percent / 100.0 {
        Trend::Falling
    } else {
        Trend::Steady
    }
}

/// The value score 0–100 of each total: the share of the others with a smaller total (ties share
/// the lower rank), so the best customer of a population scores 100 and equal totals score equal.
pub fn value_scores(totals: &[i64]) -> Vec<u8> {
    let n = totals.len();
    if n <= 1 {
        return vec![100; n];
    }
    let mut sorted = totals.to_vec();
    sorted.sort_unstable();
    totals
        .iter()
        .map(|t| {
            let below = sorted.partition_point(|x| x < t);
            u8::try_from(below * 100 / (n - 1)).unwrap_or(100)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn slope_and_trend_of_known_series() {
        assert_eq!(slope(&[1, 2, 3, 4]), Some(1.0));
        assert_eq!(slope(&[5]), None);
        assert_eq!(slope(&[10, 10, 10]), Some(0.0));
        assert_eq!(trend(&[100, 110, 120, 130], 2.0), Trend::Rising);
        assert_eq!(trend(&[130, 120, 110, 100], 2.0), Trend::Falling);
        assert_eq!(trend(&[100, 101, 100, 101], 2.0), Trend::Steady);
        assert_eq!(trend(&[0; 12], 2.0), Trend::Steady);
    }

    #[test]
    fn scores_rank_within_the_population() {
        assert_eq!(value_scores(&[10, 30, 20, 30]), [0, 66, 33, 66]);
        assert_eq!(value_scores(&[7]), [100]);
        assert!(value_scores(&[]).is_empty());
    }

    proptest! {
        #[test]
        fn scores_are_monotone_in_the_total(totals in prop::collection::vec(-1000i64..1000, 2..50)) {
            let scores = value_scores(&totals);
            for (a, sa) in totals.iter().zip(&scores) {
                prop_assert!(*sa <= 100);
                for (b, sb) in totals.iter().zip(&scores) {
                    if a < b { prop_assert!(sa < sb); }
                    if a == b { prop_assert_eq!(sa, sb); }
                }
            }
        }

        #[test]
        fn slope_recovers_a_line(a in -10_000i64..10_000, b in -1000i64..1000, n in 2usize..24) {
            let series: Vec<i64> = (0..n as i64).map(|x| a + b * x).collect();
            let s = slope(&series).unwrap();
            prop_assert!((s - b as f64).abs() < 1e-6);
        }
    }
}

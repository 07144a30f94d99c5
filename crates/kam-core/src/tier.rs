//! The five value tiers (客户五级分类) by one indicator and four bars, and the month-to-month
//! hysteresis Chinese banks run them with: an upgrade takes effect at once; a customer below its
//! tier's bar for M consecutive months is put on watch (关注); M more months and it is downgraded.
//! Pure: the batch supplies each month's indicator value and the previous state.

/// Five tiers, best first, and the bars between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierScale {
    /// Names from the best tier to the lowest, e.g. 战略 / 核心 / 重点 / 基础 / 一般.
    pub names: [String; 5],
    /// The least value of tiers 1 to 4, strictly descending; anything below the last is tier 5.
    pub bars: [i64; 4],
}

impl TierScale {
    /// Checks the bars descend; the message names the offending pair.
    pub fn new(names: [String; 5], bars: [i64; 4]) -> Result<Self, String> {
        if let Some(pair) = bars.windows(2).find(|pair| pair[0] <= pair[1]) {
            return Err(format!(
                "档位门槛应严格递减：{} 不大于 {} / tier bars must strictly descend: {} is not above {}",
                pair[0], pair[1], pair[0], pair[1]
            ));
        }
        Ok(Self { names, bars })
    }

    /// The tier a value earns on its own, 0 (best) to 4; no value is the lowest tier.
    pub fn measure(&self, value: Option<i64>) -> usize {
        match value {
            Some(value) => self.bars.iter().position(|bar| value >= *bar).unwrap_or(4),
            None => 4,
        }
    }
}

/// A customer's tier and how long it has been below that tier's bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierState {
    pub tier: usize,
    /// Consecutive months measured below `tier`.
    pub months_below: u32,
}

impl TierState {
    /// On watch (关注): below the bar long enough to be warned, not yet downgraded.
    pub fn on_watch(self, watch_after: u32) -> bool {
        self.months_below >= watch_after
    }
}

crate::code_enum! {
    /// A month's `TierMove` as stored (the months below the bar are stored beside it).
    pub enum Movement as "movement" {
        New = "new",
        Upgraded = "upgraded",
        Held = "held",
        Below = "below",
        Downgraded = "downgraded",
    }
}

/// What one month did to a customer's tier, for the explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierMove {
    /// First month classified.
    New,
    Upgraded,
    Held,
    /// Below the bar; `months` consecutive so far.
    Below {
        months: u32,
    },
    Downgraded,
}

impl TierMove {
    pub fn movement(self) -> Movement {
        match self {
            TierMove::New => Movement::New,
            TierMove::Upgraded => Movement::Upgraded,
            TierMove::Held => Movement::Held,
            TierMove::Below { .. } => Movement::Below,
            TierMove::Downgraded => Movement::Downgraded,
        }
    }
}

/// One month: `measured` is the tier the month's value earns (`TierScale::measure`). Upgrades
/// apply at once; `watch_after` months below puts the customer on watch; twice that downgrades
/// to the tier measured this month.
pub fn monthly_step(
    previous: Option<TierState>,
    measured: usize,
    watch_after: u32,
) -> (TierState, TierMove) {
    let Some(previous) = previous else {
        return (
            TierState {
                tier: measured,
                months_below: 0,
            },
            TierMove::New,
        );
    };
    if measured < previous.tier {
        return (
            TierState {
                tier: measured,
                months_below: 0,
            },
            TierMove::Upgraded,
        );
    }
    if measured == previous.tier {
        return (
            TierState {
                tier: measured,
                months_below: 0,
            },
            TierMove::Held,
        );
    }
    let months = previous.months_below + 1;
    if months >= watch_after.saturating_mul(2).max(1) {
        (
            TierState {
                tier: measured,
                months_below: 0,
            },
            TierMove::Downgraded,
        )
    } else {
        (
            TierState {
                tier: previous.tier,
                months_below: months,
            },
            TierMove::Below { months },
        )
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn scale() -> TierScale {
        TierScale::new(
            ["战略", "核心", "重点", "基础", "一般"].map(String::from),
            [1_000_000, 100_000, 10_000, 1_000],
        )
        .unwrap()
    }

    #[test]
    fn bars_place_values_with_the_bar_itself_in_the_higher_tier() {
        let s = scale();
        assert_eq!(s.measure(Some(1_000_000)), 0);
        assert_eq!(s.measure(Some(999_999)), 1);
        assert_eq!(s.measure(Some(1_000)), 3);
        assert_eq!(s.measure(Some(999)), 4);
        assert_eq!(s.measure(Some(-5)), 4);
        assert_eq!(s.measure(None), 4);
        assert!(TierScale::new(s.names.clone(), [10, 10, 5, 1]).is_err());
    }

    #[test]
    fn upgrade_at_once_watch_after_m_months_downgrade_after_2m() {
        let m = 3;
        let (s, mv) = monthly_step(None, 1, m);
        assert_eq!((s.tier, mv), (1, TierMove::New));
        // Up at once.
        let (s, mv) = monthly_step(Some(s), 0, m);
        assert_eq!((s.tier, mv), (0, TierMove::Upgraded));
        // Three months below: still tier 0, now on watch.
        let mut state = s;
        for month in 1..=3 {
            let (next, mv) = monthly_step(Some(state), 2, m);
            assert_eq!((next.tier, mv), (0, TierMove::Below { months: month }));
            state = next;
        }
        assert!(state.on_watch(m));
        // A month back at the bar clears the count.
        let (back, mv) = monthly_step(Some(state), 0, m);
        assert_eq!((back.tier, back.months_below, mv), (0, 0, TierMove::Held));
        // Six months below in a row: downgraded to what the sixth month earned.
        let mut state = back;
        let mut moves = Vec::new();
        for measured in [2, 1, 2, 2, 1, 1] {
            let (next, mv) = monthly_step(Some(state), measured, m);
            moves.push(mv);
            state = next;
        }
        assert_eq!(moves.last(), Some(&TierMove::Downgraded));
        assert_eq!((state.tier, state.months_below), (1, 0));
    }

    proptest! {
        #[test]
        fn a_larger_value_never_earns_a_lower_tier(a in any::<i64>(), b in any::<i64>()) {
            let s = scale();
            let (low, high) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(s.measure(Some(high)) <= s.measure(Some(low)));
        }

        #[test]
        fn a_customer_is_never_above_what_it_earned_for_longer_than_2m_months(
            months in prop::collection::vec(0usize..5, 1..60),
            m in 1u32..6,
        ) {
            let mut state = None;
            let mut run_below = 0;
            for measured in months {
                let (next, _) = monthly_step(state, measured, m);
                prop_assert!(next.tier <= measured, "never below what the month earned");
                run_below = if next.tier < measured { run_below + 1 } else { 0 };
                prop_assert!(run_below < 2 * m as usize);
                state = Some(next);
            }
        }
    }
}

//! The 80/20 rule (80/20营销法则) on any indicator: ABC classes, the Lorenz curve for a chart, the
//! Gini coefficient and the share the top 20% of customers hold. Pure arithmetic on integers (the
//! shares themselves are ratios).

/// A customer's class: A holds the first 80% of the total, B the next 15%, C the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AbcClass {
    A,
    B,
    C,
}

impl AbcClass {
    pub fn as_str(self) -> &'static str {
        match self {
            AbcClass::A => "A",
            AbcClass::B => "B",
            AbcClass::C => "C",
        }
    }
}

/// The result for one population.
#[derive(Debug, Clone, PartialEq)]
pub struct Pareto {
    /// Σ of the values (negative values count as 0: a loss is not a share of a total).
    pub total: i128,
    /// Customers in descending order of value, each with its class and its share of the total.
    pub ranked: Vec<Ranked>,
    /// Lorenz points (share of customers, share of the total), from (0, 0) to (1, 1), customers
    /// in ascending order of value.
    pub lorenz: Vec<(f64, f64)>,
    /// 0 for perfect equality, towards 1 when one customer holds everything; empty over nothing.
    pub gini: Option<f64>,
    /// The share of the total held by the top 20% of customers (rounded up to whole customers).
    pub top20_share: Option<f64>,
}

/// One customer in the ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub key: String,
    pub value: i64,
    pub share: f64,
    /// The share of the total held by this customer and every one ranked above it.
    pub cumulative_share: f64,
    pub class: AbcClass,
}

/// Where class A ends and class B ends, in parts per hundred of the total.
const A_UP_TO: i128 = 80;
const B_UP_TO: i128 = 95;

/// Ranks `values` (customer key, value): descending by value, ties by key, so the result never
/// depends on input order. A customer is in A while the customers ranked above it hold less than
/// 80% of the total — so A is the smallest head that reaches 80% — in B while they hold less than
/// 95%, otherwise in C. With a total of 0 every customer is C.
pub fn pareto(values: &[(String, i64)]) -> Pareto {
    let mut ranked: Vec<(String, i64)> = values
        .iter()
        .map(|(key, value)| (key.clone(), (*value).max(0)))
        .collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let total: i128 = ranked.iter().map(|(_, v)| i128::from(*v)).sum();
    let n = ranked.len();
    let share = |part: i128| {
        if total == 0 {
            0.0
        } else {
            part as f64 / total as f64
        }
    };
    let mut before: i128 = 0;
    let ranked: Vec<Ranked> = ranked
        .into_iter()
        .map(|(key, value)| {
            let class = if total == 0 {
                AbcClass::C
            } else if before * 100 < A_UP_TO * total {
                AbcClass::A
            } else if before * 100 < B_UP_TO * total {
                AbcClass::B
            } else {
                AbcClass::C
            };
            before += i128::from(value);
            Ranked {
                key,
                value,
                share: share(i128::from(value)),
                cumulative_share: share(before),
                class,
            }
        })
        .collect();

    let mut lorenz = vec![(0.0, 0.0)];
    let mut running: i128 = 0;
    for (index, r) in ranked.iter().rev().enumerate() {
        running += i128::from(r.value);
        lorenz.push(((index + 1) as f64 / n as f64, share(running)));
    }
    let gini = (total > 0).then(|| {
        // Ascending order: G = 2 Σ i·xᵢ / (n Σ xᵢ) − (n + 1) / n, with i from 1.
        let weighted: i128 = ranked
            .iter()
            .rev()
            .enumerate()
            .map(|(i, r)| (i as i128 + 1) * i128::from(r.value))
            .sum();
        let n = n as f64;
        2.0 * weighted as f64 / (n * total as f64) - (n + 1.0) / n
    });
    let top = n.div_ceil(5);
    let top20_share =
        (total > 0).then(|| share(ranked[..top].iter().map(|r| i128::from(r.value)).sum()));
    Pareto {
        total,
        ranked,
        lorenz,
        gini,
        top20_share,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn population(values: &[i64]) -> Vec<(String, i64)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("C{i:03}"), *v))
            .collect()
    }

    #[test]
    fn a_worked_example() {
        // Total 1,000: C000 holds 600, C001 250, C002 100, C003 50.
        let p = pareto(&population(&[100, 600, 50, 250]));
        let classes: Vec<(&str, AbcClass)> =
            p.ranked.iter().map(|r| (r.key.as_str(), r.class)).collect();
        // Before C001 (600): 0% → A. Before C003 (250): 60% → A. Before C000 (100): 85% → B.
        // Before C002 (50): 95% → C.
        assert_eq!(
            classes,
            [
                ("C001", AbcClass::A),
                ("C003", AbcClass::A),
                ("C000", AbcClass::B),
                ("C002", AbcClass::C)
            ]
        );
        // The top 20% of four customers is one customer: 60%.
        assert_eq!(p.top20_share, Some(0.6));
        // Ascending 50, 100, 250, 600: 2 (50 + 200 + 750 + 2400) / (4 · 1000) − 5/4 = 0.45.
        assert!((p.gini.unwrap() - 0.45).abs() < 1e-12);
        assert_eq!(p.lorenz.first(), Some(&(0.0, 0.0)));
        assert_eq!(p.lorenz.last(), Some(&(1.0, 1.0)));
        assert_eq!(p.lorenz[1], (0.25, 0.05));
    }

    #[test]
    fn nothing_and_all_zero_have_no_shape() {
        let empty = pareto(&[]);
        assert_eq!((empty.gini, empty.top20_share), (None, None));
        let zeros = pareto(&population(&[0, 0, -5]));
        assert_eq!(zeros.gini, None);
        assert!(zeros.ranked.iter().all(|r| r.class == AbcClass::C));
    }

    #[test]
    fn equal_customers_have_a_gini_of_zero() {
        let p = pareto(&population(&[7; 10]));
        assert!(p.gini.unwrap().abs() < 1e-12);
        assert_eq!(p.top20_share, Some(0.2));
    }

    proptest! {
        #[test]
        fn shares_add_up_and_every_customer_has_one_class(
            values in prop::collection::vec(0i64..1_000_000_000, 1..200)
        ) {
            let p = pareto(&population(&values));
            prop_assert_eq!(p.ranked.len(), values.len());
            if p.total > 0 {
                let sum: f64 = p.ranked.iter().map(|r| r.share).sum();
                prop_assert!((sum - 1.0).abs() < 1e-9);
                let gini = p.gini.unwrap();
                prop_assert!((0.0..1.0).contains(&gini) || gini.abs() < 1e-12);
                // A is a head, then B, then C: classes never go back up the ranking.
                prop_assert!(p.ranked.windows(2).all(|w| w[0].class <= w[1].class));
                // A reaches 80% of the total.
                let a: i128 = p.ranked.iter().filter(|r| r.class == AbcClass::A).map(|r| i128::from(r.value)).sum();
                prop_assert!(a * 100 >= 80 * p.total);
            }
            // The Lorenz curve never decreases.
            prop_assert!(p.lorenz.windows(2).all(|w| w[0].1 <= w[1].1 + 1e-12 && w[0].0 < w[1].0));
        }
    }
}

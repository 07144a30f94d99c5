//! The scoring board (综合评分, 大客户管理方案): criteria rows, each scored 1/3/5/7/9 per candidate
//! either from an indicator through four bars or from a manual score; optional integer weights; a
//! total per candidate; the board's average; ★ (`starred`) when the total reaches the average or a
//! fixed bar. `Board::matrix` prints the key-account scoring matrix (大客户综合评分表): criteria down, candidates across.

use crate::indicator::IndicatorSpec;

/// The only scores a criterion gives.
pub const SCALE: [u8; 5] = [9, 7, 5, 3, 1];

/// Where a criterion's score comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Entered or imported by people (e.g. 客户关系, 政策支持).
    Manual,
    /// From an indicator: reaching `bars[0]` scores 9, `bars[1]` 7, `bars[2]` 5, `bars[3]` 3, else 1.
    /// With `lower_is_better` the bars ascend and a value at or below a bar earns its score.
    Indicator {
        indicator: &'static IndicatorSpec,
        window: Option<u32>,
        bars: [i64; 4],
        lower_is_better: bool,
        /// The score of a customer without a value (e.g. 信誉 for a customer with no loans).
        when_empty: Option<u8>,
    },
}

/// One row of the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criterion {
    pub code: String,
    pub zh: String,
    pub en: String,
    pub weight: u32,
    pub source: Source,
}

impl Criterion {
    /// The indicator column this criterion reads (`avg_daily_deposit_90d`), if any.
    pub fn column(&self) -> Option<String> {
        match &self.source {
            Source::Manual => None,
            Source::Indicator {
                indicator, window, ..
            } => Some(crate::rules::column(indicator, *window)),
        }
    }

    /// The score of an indicator value through the bars; `None` for a manual criterion or a
    /// missing value without a `when_empty` score.
    pub fn score(&self, value: Option<i64>) -> Option<u8> {
        let Source::Indicator {
            bars,
            lower_is_better,
            when_empty,
            ..
        } = &self.source
        else {
            return None;
        };
        let Some(value) = value else {
            return *when_empty;
        };
        let reached = bars.iter().position(|bar| {
            if *lower_is_better {
                value <= *bar
            } else {
                value >= *bar
            }
        });
        Some(reached.map_or(1, |i| SCALE[i]))
    }
}

/// When a candidate earns ★.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StarBar {
    /// Total ≥ the board's average (the scoring matrix's "总分 ≥ 平均分").
    Average,
    /// Total ≥ a fixed number of points.
    Fixed(i64),
}

/// A board: its rows and its star bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    pub id: String,
    pub zh: String,
    pub en: String,
    pub criteria: Vec<Criterion>,
    pub star: StarBar,
}

/// One candidate's column: a score per criterion (`None` = not scored yet, counted as 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub cif_no: String,
    pub name: String,
    pub scores: Vec<Option<u8>>,
}

/// One candidate's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scored {
    pub total: i64,
    pub starred: bool,
    /// Every criterion has a score.
    pub complete: bool,
}

/// A whole board's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub scored: Vec<Scored>,
    /// The mean of the totals; `None` for a board without candidates.
    pub average: Option<f64>,
}

impl Board {
    /// A score someone enters: `criterion` must be one of the board's manual criteria and the
    /// score one of the scale. The refusal names the field and says what would do.
    pub fn check_manual(&self, criterion: &str, score: u8) -> Result<(), crate::ParseError> {
        let manual: Vec<&str> = self
            .criteria
            .iter()
            .filter(|c| c.source == Source::Manual)
            .map(|c| c.code.as_str())
            .collect();
        if !manual.contains(&criterion) {
            return Err(crate::ParseError::new(
                "criterion",
                criterion,
                format!(
                    "not a manual criterion of the board; manual: {}",
                    manual.join(", ")
                ),
                format!("不是评分板的人工评分项；人工评分项：{}", manual.join("、")),
            ));
        }
        if !SCALE.contains(&score) {
            return Err(crate::ParseError::new(
                "score",
                score.to_string(),
                "a score is 1, 3, 5, 7 or 9",
                "分数应为 1、3、5、7 或 9",
            ));
        }
        Ok(())
    }

    /// Totals (Σ weight × score), the average, and ★ per candidate. The comparison with the
    /// average is exact: total × n ≥ Σ totals. When every candidate has the same total the board
    /// tells them apart in nothing, so nobody is starred (a board where everyone has ★ says
    /// nothing; typically its manual criteria are not scored yet).
    pub fn evaluate(&self, candidates: &[Candidate]) -> Outcome {
        let totals: Vec<i64> = candidates
            .iter()
            .map(|c| {
                self.criteria
                    .iter()
                    .zip(&c.scores)
                    .map(|(criterion, s)| i64::from(criterion.weight) * i64::from(s.unwrap_or(0)))
                    .sum()
            })
            .collect();
        let n = i64::try_from(totals.len()).unwrap_or(i64::MAX);
        let sum: i64 = totals.iter().sum();
        let distinguishes = totals.iter().min() != totals.iter().max();
        let scored = candidates
            .iter()
            .zip(&totals)
            .map(|(c, &total)| Scored {
                total,
                starred: match self.star {
                    StarBar::Average => distinguishes && total * n >= sum,
                    StarBar::Fixed(bar) => total >= bar,
                },
                complete: c.scores.len() == self.criteria.len()
                    && c.scores.iter().all(Option::is_some),
            })
            .collect();
        Outcome {
            scored,
            average: (n > 0).then(|| sum as f64 / n as f64),
        }
    }

    /// The key-account scoring matrix (大客户综合评分表) as text: a header of candidate names, one row per criterion (its weight
    /// when not 1), the totals, ★ under each starred total, and the bar ("≥平均分29.1 分").
    pub fn matrix(&self, candidates: &[Candidate]) -> String {
        let outcome = self.evaluate(candidates);
        let mut out = String::new();
        let cell = |text: &str| format!("\t{text}");
        out += "评分项 criterion";
        for c in candidates {
            out += &cell(&c.name);
        }
        out += "\n";
        for (i, criterion) in self.criteria.iter().enumerate() {
            out += &criterion.zh;
            if criterion.weight != 1 {
                out += &format!(" ×{}", criterion.weight);
            }
            for c in candidates {
                let score = c.scores.get(i).copied().flatten();
                out += &cell(&score.map_or("—".to_owned(), |s| s.to_string()));
            }
            out += "\n";
        }
        out += &match (self.star, outcome.average) {
            (StarBar::Average, Some(average)) => format!("总分 ≥平均分{average:.1} 分"),
            (StarBar::Average, None) => "总分 ≥平均分".to_owned(),
            (StarBar::Fixed(bar), _) => format!("总分 ≥{bar} 分"),
        };
        for s in &outcome.scored {
            out += &cell(&if s.starred {
                format!("{} ★", s.total)
            } else {
                s.total.to_string()
            });
        }
        out += "\n";
        out
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::indicator::CATALOGUE;

    fn manual(zh: &str) -> Criterion {
        Criterion {
            code: zh.to_owned(),
            zh: zh.to_owned(),
            en: zh.to_owned(),
            weight: 1,
            source: Source::Manual,
        }
    }

    /// The board of the key-account management plan (大客户管理方案). Its table reached us flattened, so this is a
    /// reconstruction that keeps every number the seed shows: the 客户关系 and 政策支持 rows exactly
    /// (nine candidates each), the seven visible values of the row above them as 规模, the totals
    /// 42, 46, 32, 28, 28, 24, 22 and the average 29.1 (which fixes the last two totals' sum at 40).
    /// The three remaining rows are 1/3/5/7/9 scores chosen to give those totals.
    fn seed_board() -> (Board, Vec<Candidate>) {
        let rows: [[u8; 9]; 6] = [
            [7, 9, 5, 5, 5, 5, 3, 5, 3], // 规模
            [7, 9, 5, 7, 7, 3, 7, 1, 5], // 客户关系 (seed)
            [9, 7, 9, 7, 3, 9, 3, 1, 3], // 政策支持 (seed)
            [7, 7, 5, 3, 5, 3, 3, 5, 3], // 贡献
            [7, 7, 5, 3, 5, 3, 3, 5, 3], // 信誉
            [5, 7, 3, 3, 3, 1, 3, 3, 3], // 发展潜力
        ];
        let board = Board {
            id: "seed".into(),
            zh: "大客户管理方案".into(),
            en: "key-account plan".into(),
            criteria: ["规模", "客户关系", "政策支持", "贡献", "信誉", "发展潜力"]
                .into_iter()
                .map(manual)
                .collect(),
            star: StarBar::Average,
        };
        let candidates = (0..9)
            .map(|c| Candidate {
                cif_no: format!("C{c}"),
                name: format!("客户{}", c + 1),
                scores: rows.iter().map(|row| Some(row[c])).collect(),
            })
            .collect();
        (board, candidates)
    }

    #[test]
    fn the_seed_board_prints_the_seed_matrix() {
        let (board, candidates) = seed_board();
        let outcome = board.evaluate(&candidates);
        let totals: Vec<i64> = outcome.scored.iter().map(|s| s.total).collect();
        assert_eq!(totals, [42, 46, 32, 28, 28, 24, 22, 20, 20]);
        assert_eq!(format!("{:.1}", outcome.average.unwrap()), "29.1");
        insta::assert_snapshot!(board.matrix(&candidates), @r"
        评分项 criterion	客户1	客户2	客户3	客户4	客户5	客户6	客户7	客户8	客户9
        规模	7	9	5	5	5	5	3	5	3
        客户关系	7	9	5	7	7	3	7	1	5
        政策支持	9	7	9	7	3	9	3	1	3
        贡献	7	7	5	3	5	3	3	5	3
        信誉	7	7	5	3	5	3	3	5	3
        发展潜力	5	7	3	3	3	1	3	3	3
        总分 ≥平均分29.1 分	42 ★	46 ★	32 ★	28	28	24	22	20	20
        ");
    }

    #[test]
    fn indicator_criteria_score_through_bars_either_way() {
        let spec = CATALOGUE.iter().find(|s| s.code == "contribution").unwrap();
        let higher = Criterion {
            source: Source::Indicator {
                indicator: spec,
                window: Some(365),
                bars: [400, 300, 200, 100],
                lower_is_better: false,
                when_empty: None,
            },
            ..manual("贡献")
        };
        let scores: Vec<Option<u8>> = [Some(400), Some(399), Some(100), Some(99), None]
            .into_iter()
            .map(|v| higher.score(v))
            .collect();
        assert_eq!(scores, [Some(9), Some(7), Some(3), Some(1), None]);
        assert_eq!(higher.column().as_deref(), Some("contribution_365d"));
        let lower = Criterion {
            source: Source::Indicator {
                indicator: spec,
                window: None,
                bars: [1, 2, 3, 4],
                lower_is_better: true,
                when_empty: Some(9),
            },
            ..manual("信誉")
        };
        let scores: Vec<Option<u8>> = [Some(1), Some(2), Some(5), None]
            .into_iter()
            .map(|v| lower.score(v))
            .collect();
        assert_eq!(scores, [Some(9), Some(7), Some(1), Some(9)]);
    }

    #[test]
    fn weights_missing_scores_and_a_fixed_bar() {
        let mut board = Board {
            id: "b".into(),
            zh: "b".into(),
            en: "b".into(),
            criteria: vec![manual("a"), manual("b")],
            star: StarBar::Fixed(20),
        };
        board.criteria[1].weight = 2;
        let candidates = vec![
            Candidate {
                cif_no: "1".into(),
                name: "甲".into(),
                scores: vec![Some(9), Some(7)],
            },
            Candidate {
                cif_no: "2".into(),
                name: "乙".into(),
                scores: vec![Some(9), None],
            },
        ];
        let outcome = board.evaluate(&candidates);
        assert_eq!(
            outcome.scored,
            [
                Scored {
                    total: 23,
                    starred: true,
                    complete: true
                },
                Scored {
                    total: 9,
                    starred: false,
                    complete: false
                }
            ]
        );
        assert!(board.matrix(&candidates).contains("b ×2\t7\t—"));
    }

    #[test]
    fn a_board_where_everyone_scores_the_same_stars_nobody() {
        let board = Board {
            id: "b".into(),
            zh: "b".into(),
            en: "b".into(),
            criteria: vec![manual("a"), manual("b")],
            star: StarBar::Average,
        };
        // Manual criteria not scored yet and the indicator ones alike: 27 each, as in the demo.
        let same = |cif: &str| Candidate {
            cif_no: cif.into(),
            name: cif.into(),
            scores: vec![Some(9), None],
        };
        let outcome = board.evaluate(&[same("1"), same("2"), same("3")]);
        assert!(outcome.scored.iter().all(|s| !s.starred && s.total == 9));
        let mut better = same("4");
        better.scores[1] = Some(1);
        let outcome = board.evaluate(&[same("1"), same("2"), better]);
        assert_eq!(
            outcome.scored.iter().map(|s| s.starred).collect::<Vec<_>>(),
            [false, false, true]
        );
    }

    proptest! {
        /// When the totals differ, at least one candidate reaches the average (and not all do);
        /// when they are all equal nobody is starred; ★ is monotone: whoever has a total at
        /// least a starred one's is starred too.
        #[test]
        fn stars_are_monotone_in_the_total(columns in prop::collection::vec(prop::collection::vec(0usize..5, 3), 1..30)) {
            let board = Board {
                id: "p".into(), zh: "p".into(), en: "p".into(),
                criteria: vec![manual("a"), manual("b"), manual("c")],
                star: StarBar::Average,
            };
            let candidates: Vec<Candidate> = columns.iter().enumerate().map(|(i, col)| Candidate {
                cif_no: i.to_string(),
                name: i.to_string(),
                scores: col.iter().map(|&s| Some(SCALE[s])).collect(),
            }).collect();
            let outcome = board.evaluate(&candidates);
            let all_equal = outcome.scored.iter().all(|s| s.total == outcome.scored[0].total);
            prop_assert_eq!(outcome.scored.iter().any(|s| s.starred), !all_equal);
            prop_assert!(!outcome.scored.iter().all(|s| s.starred) || all_equal);
            for a in &outcome.scored {
                for b in &outcome.scored {
                    if a.starred && b.total >= a.total {
                        prop_assert!(b.starred);
                    }
                }
            }
        }
    }
}

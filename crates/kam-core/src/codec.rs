//! The text forms of the batch's typed results, where a database column or a text snapshot holds
//! a small list: a monthly series (`2026-01=1200,2026-02=-300`), a list of bars (`400,300,200,100`),
//! a board's scores (`relationship=7,policy=-`) and a list of codes (`strategic,group`). Each type
//! has one `Display` and one `parse`, and `parse` reads the whole text or refuses it naming the
//! part it could not read — never skipping a bad pair.

use std::fmt;

use crate::ParseError;

fn refused(field: &'static str, value: &str, en: &str, zh: &str) -> ParseError {
    ParseError::new(field, value, en.to_owned(), zh.to_owned())
}

/// The parts of a comma-separated text; an empty text has none.
fn parts(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').filter(|_| !text.is_empty())
}

/// Month `YYYY-MM` as the series writes it.
fn is_month(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 7
        && bytes[4] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || b.is_ascii_digit())
        && matches!(
            &text[5..],
            "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" | "09" | "10" | "11" | "12"
        )
}

/// A monthly series of fen, oldest month first (contribution, average deposit, loans, fees).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonthSeries(pub Vec<(String, i64)>);

impl MonthSeries {
    pub fn points(&self) -> &[(String, i64)] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn parse(text: &str) -> Result<Self, ParseError> {
        parts(text)
            .map(|part| {
                let bad = || {
                    refused(
                        "month_series",
                        part,
                        "not a month and an amount in fen (YYYY-MM=fen)",
                        "不是“年-月=金额（分）”",
                    )
                };
                let (month, fen) = part.split_once('=').ok_or_else(bad)?;
                if !is_month(month) {
                    return Err(bad());
                }
                Ok((month.to_owned(), fen.parse().map_err(|_| bad())?))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl fmt::Display for MonthSeries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (month, fen)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{month}={fen}")?;
        }
        Ok(())
    }
}

/// The bars a value was measured against, best first (a tier scale's, in the indicator's unit).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bars(pub Vec<i64>);

impl Bars {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        parts(text)
            .map(|part| {
                part.parse()
                    .map_err(|_| refused("bars", part, "not an integer bar", "不是整数门槛值"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl fmt::Display for Bars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, bar) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{bar}")?;
        }
        Ok(())
    }
}

/// A candidate's scores on a board, per criterion in the board's order; `None` for a criterion
/// without a score (no indicator value, or no manual score entered).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoardScores(pub Vec<(String, Option<u8>)>);

impl BoardScores {
    pub fn scores(&self) -> &[(String, Option<u8>)] {
        &self.0
    }

    pub fn parse(text: &str) -> Result<Self, ParseError> {
        parts(text)
            .map(|part| {
                let bad = || {
                    refused(
                        "board_scores",
                        part,
                        "not a criterion and a score (criterion=score or criterion=-)",
                        "不是“评分项=分数”或“评分项=-”",
                    )
                };
                let (criterion, score) = part.split_once('=').ok_or_else(bad)?;
                if criterion.is_empty() {
                    return Err(bad());
                }
                let score = match score {
                    "-" => None,
                    digits => Some(digits.parse().map_err(|_| bad())?),
                };
                Ok((criterion.to_owned(), score))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl fmt::Display for BoardScores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (criterion, score)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match score {
                Some(score) => write!(f, "{criterion}={score}")?,
                None => write!(f, "{criterion}=-")?,
            }
        }
        Ok(())
    }
}

/// A list of codes (`strategic,group`) in their text form, each read by `parse`.
pub fn parse_codes<T>(
    text: &str,
    parse: impl Fn(&str) -> Result<T, ParseError>,
) -> Result<Vec<T>, ParseError> {
    parts(text).map(parse).collect()
}

/// Codes joined with commas.
pub fn join_codes<T: fmt::Display>(codes: &[T]) -> String {
    codes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_form_reads_back_what_it_writes_and_refuses_the_rest() {
        let series = MonthSeries(vec![("2026-01".into(), 1200), ("2026-02".into(), -300)]);
        assert_eq!(series.to_string(), "2026-01=1200,2026-02=-300");
        assert_eq!(MonthSeries::parse(&series.to_string()).unwrap(), series);
        assert_eq!(MonthSeries::parse("").unwrap(), MonthSeries::default());
        for bad in [
            "2026-01=12x",
            "2026-13=1",
            "2026-1=1",
            "2026-01",
            "=5",
            "2026-01=1,",
            "2026-01=1.5",
        ] {
            assert!(MonthSeries::parse(bad).is_err(), "{bad}");
        }
        let bars = Bars(vec![400, 300, 200, 100]);
        assert_eq!(Bars::parse(&bars.to_string()).unwrap(), bars);
        assert!(Bars::parse("400,,100").is_err());
        assert!(Bars::parse("400,3e2").is_err());
        let scores = BoardScores(vec![
            ("relationship".into(), Some(7)),
            ("policy".into(), None),
        ]);
        assert_eq!(scores.to_string(), "relationship=7,policy=-");
        assert_eq!(BoardScores::parse(&scores.to_string()).unwrap(), scores);
        for bad in [
            "relationship=",
            "relationship=x",
            "=7",
            "relationship=700",
            "relationship",
        ] {
            assert!(BoardScores::parse(bad).is_err(), "{bad}");
        }
        let codes = parse_codes("strategic,group", crate::customer::AccountType::parse).unwrap();
        assert_eq!(join_codes(&codes), "strategic,group");
        assert!(parse_codes("strategic,nope", crate::customer::AccountType::parse).is_err());
    }
}

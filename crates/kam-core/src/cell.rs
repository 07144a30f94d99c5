//! Text cells bound for files people open in a spreadsheet: neutralised against formula
//! injection (CWE-1236), so an alert note or a customer name typed as `=HYPERLINK(…)` is shown,
//! never run.

use std::borrow::Cow;

/// The cell as it may be written to a CSV file. A cell starting with `=`, `+`, `-`, `@`, TAB or
/// CR is read by Excel and its kin as a formula; it gets a leading apostrophe (`'=HYPERLINK(…)`),
/// which shows the text as typed. A plain number (`-1234.56`, `+7`) is left as it is: it cannot be
/// a formula, and amounts must stay numbers.
pub fn spreadsheet_safe(text: &str) -> Cow<'_, str> {
    let risky = text
        .chars()
        .next()
        .is_some_and(|c| matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r'));
    if risky && !is_plain_number(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// `[+-]digits[.digits]`.
fn is_plain_number(text: &str) -> bool {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (whole, fraction) = body.split_once('.').unwrap_or((body, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_shown_not_run() {
        for text in [
            "=HYPERLINK(\"http://evil.example\",\"点此\")",
            "+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(A1:A2)",
            "\t=1",
            "\r=1",
            "-",
        ] {
            assert_eq!(spreadsheet_safe(text), format!("'{text}"), "{text:?}");
        }
    }

    #[test]
    fn ordinary_text_and_numbers_are_unchanged() {
        for text in [
            "招商银行",
            "-1234.56",
            "+7",
            "0",
            "",
            "a=b",
            "1-2",
            "C00012",
        ] {
            assert_eq!(spreadsheet_safe(text), text, "{text:?}");
        }
    }
}

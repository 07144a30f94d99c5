//! Pinyin initials of names, so staff can type `zsyh` to find 招商银行 (the way Chinese back-office
//! systems search). A character with several readings (行: xíng / háng) gives every spelling.

use pinyin::{Pinyin, ToPinyinMulti};

/// At most this many spellings are kept per name; past it, later characters keep their first
/// reading only. Company names rarely have more than two or three heteronyms.
const MAX_SPELLINGS: usize = 8;

/// The lower-case pinyin initials of `name`, one spelling per combination of readings, separated by
/// spaces: `招商银行` → `zsyx zsyh`. ASCII letters and digits are kept (lower-cased); other
/// characters (brackets, punctuation, spaces) are left out. Empty when nothing is left.
pub fn name_initials(name: &str) -> String {
    let mut spellings: Vec<String> = vec![String::new()];
    for ch in name.chars() {
        if ch.is_ascii_alphanumeric() {
            let lower = ch.to_ascii_lowercase();
            spellings.iter_mut().for_each(|s| s.push(lower));
            continue;
        }
        let Some(readings) = ch.to_pinyin_multi() else {
            continue;
        };
        let mut letters: Vec<char> = Vec::with_capacity(2);
        for reading in readings {
            let letter = first_letter(reading);
            if !letters.contains(&letter) {
                letters.push(letter);
            }
        }
        if letters.len() == 1 || spellings.len() * letters.len() > MAX_SPELLINGS {
            spellings.iter_mut().for_each(|s| s.push(letters[0]));
        } else {
            spellings = spellings
                .iter()
                .flat_map(|s| {
                    letters.iter().map(move |letter| {
                        let mut next = s.clone();
                        next.push(*letter);
                        next
                    })
                })
                .collect();
        }
    }
    if spellings[0].is_empty() {
        return String::new();
    }
    spellings.join(" ")
}

fn first_letter(reading: Pinyin) -> char {
    reading
        .first_letter()
        .chars()
        .next()
        .unwrap_or('?')
        .to_ascii_lowercase()
}

/// The search text as typed, made ready to match against `name_initials`: lower-cased ASCII
/// letters and digits only, or `None` when the text is not a plain initials query (it has Chinese,
/// spaces or punctuation), so the caller does not search initials for it.
pub fn initials_query(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric()))
        .then(|| text.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bank_name_is_found_by_either_reading_of_hang() {
        let initials = name_initials("招商银行");
        assert!(
            initials.split(' ').any(|s| s == "zsyh"),
            "招商银行 → {initials}"
        );
    }

    #[test]
    fn ascii_is_kept_and_punctuation_dropped() {
        let initials = name_initials("ABC（中国）公司");
        assert!(
            initials.split(' ').any(|s| s == "abczggs"),
            "ABC（中国）公司 → {initials}"
        );
        assert_eq!(name_initials("（）"), "");
    }

    #[test]
    fn spellings_are_bounded() {
        // 行 repeated: every one has two readings.
        let initials = name_initials("行行行行行行行行行行");
        assert!(initials.split(' ').count() <= MAX_SPELLINGS);
        assert!(initials.split(' ').all(|s| s.chars().count() == 10));
    }

    #[test]
    fn only_plain_text_is_an_initials_query() {
        assert_eq!(initials_query(" ZSYH "), Some("zsyh".into()));
        assert_eq!(initials_query("招商"), None);
        assert_eq!(initials_query("z s"), None);
        assert_eq!(initials_query(""), None);
    }
}

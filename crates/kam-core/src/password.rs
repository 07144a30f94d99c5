//! Password hashing with argon2id. The salt comes from the caller, so this module stays pure.

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

use crate::ParseError;

/// Cost of a password hash. Production uses OWASP's argon2id recommendation; tests that are not
/// about hashing use `Cheap` so a test suite with many users does not spend minutes hashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashCost {
    Production,
    Cheap,
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=…`).
pub fn hash_password(password: &str, salt: &[u8; 16], cost: HashCost) -> String {
    let params = match cost {
        // OWASP: m = 19 MiB, t = 2, p = 1.
        HashCost::Production => Params::new(19 * 1024, 2, 1, None),
        HashCost::Cheap => Params::new(256, 1, 1, None),
    }
    .expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_with_salt(password.as_bytes(), salt)
        .expect("a 16-byte salt and constant parameters always hash")
        .to_string()
}

/// True when `password` matches the stored PHC string. A malformed stored hash never matches.
pub fn verify_password(password: &str, stored: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), stored)
        .is_ok()
}

/// A one-time password from 12 random bytes the caller draws: letters and digits without
/// look-alikes, plus a symbol and a digit so it always passes the policy.
pub fn one_time_password(random: [u8; 12]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
    let body: String = random
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    format!("{body}-7a")
}

/// The password policy: at least `min_length` characters from at least three of four classes
/// (upper, lower, digit, other) — the usual reading of 等保 level 3 “complexity”.
pub fn check_policy(password: &str, min_length: usize) -> Result<(), ParseError> {
    let classes = [
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    let class_count = classes.iter().filter(|present| **present).count();
    if password.chars().count() >= min_length && class_count >= 3 {
        Ok(())
    } else {
        Err(ParseError::new(
            "password",
            "(hidden)",
            format!(
                "a password needs at least {min_length} characters from three of: upper case, lower case, digits, symbols"
            ),
            format!("密码至少 {min_length} 位，且包含大写字母、小写字母、数字、符号中的至少三类"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_and_nothing_else() {
        let hash = hash_password("Kam-2026-demo", &[7; 16], HashCost::Cheap);
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("Kam-2026-demo", &hash));
        assert!(!verify_password("kam-2026-demo", &hash));
        assert!(!verify_password("Kam-2026-demo", "not a hash"));
    }

    #[test]
    fn one_time_passwords_pass_the_policy() {
        let password = one_time_password([200; 12]);
        assert_eq!(password.chars().count(), 15);
        assert!(check_policy(&password, 10).is_ok());
        assert_ne!(password, one_time_password([1; 12]));
    }

    #[test]
    fn the_policy_wants_length_and_three_classes() {
        assert!(check_policy("Kam-2026-demo", 10).is_ok());
        assert!(check_policy("short1A", 10).is_err());
        assert!(check_policy("alllowercaseletters", 10).is_err());
    }
}

//! The password policy (ASVS 6.2): long enough, not absurdly long, hard to
//! guess, and not built from the address it protects. The strength score comes from an
//! estimator port (zxcvbn in the built-in), so this rule stays a pure function.

use crate::InvalidPolicy;
use crate::email::Email;
use crate::secret::SecretString;

/// What is wrong with a proposed password. Messages say what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    /// Shorter than the minimum.
    #[error("use at least {min} characters")]
    TooShort {
        /// Minimum length in characters.
        min: usize,
    },
    /// Longer than the maximum.
    #[error("use at most {max} characters")]
    TooLong {
        /// Maximum length in characters.
        max: usize,
    },
    /// Contains the part of the email address before `@`.
    #[error("do not use your email address in your password")]
    ContainsEmail,
    /// Too easy to guess.
    #[error(
        "this password is too easy to guess: add words or characters that are not a common pattern"
    )]
    TooWeak,
    /// One of the most common passwords (ASVS 6.2.4), whatever its letter case.
    #[error("this is one of the most common passwords: choose one of your own")]
    Common,
}

/// The most common passwords, lowercased, one per line: the 8,354 entries of 8 characters or
/// more of the 19,640 in Django's `CommonPasswordValidator` list (Royce Williams' list of the
/// 20,000 most common; taken from the PyPI wheel django 5.2.8, BSD-3-Clause). Shorter ones are
/// left out: no policy accepts them (the minimum is at least 8). Licence: `common_passwords.LICENSE`.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// Whether `password` (any letter case, surrounding spaces ignored) is on the list of the most
/// common passwords.
pub fn is_common(password: &str) -> bool {
    let candidate = password.trim().to_lowercase();
    COMMON_PASSWORDS.lines().any(|common| common == candidate)
}

/// Length and strength requirements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    min_chars: usize,
    max_chars: usize,
    min_score: u8,
}

impl Default for PasswordPolicy {
    /// 10 to 128 characters, zxcvbn score at least 3 of 4.
    fn default() -> Self {
        Self {
            min_chars: 10,
            max_chars: 128,
            min_score: 3,
        }
    }
}

impl PasswordPolicy {
    /// A policy with the given bounds.
    ///
    /// # Errors
    /// [`InvalidPolicy`] unless `8 <= min <= max <= 1024` and `score <= 4`.
    pub fn new(min_chars: usize, max_chars: usize, min_score: u8) -> Result<Self, InvalidPolicy> {
        if min_chars < 8 || min_chars > max_chars || max_chars > 1024 || min_score > 4 {
            return Err(InvalidPolicy(
                "passwords need 8 <= minimum <= maximum <= 1024 and a score of 0 to 4",
            ));
        }
        Ok(Self {
            min_chars,
            max_chars,
            min_score,
        })
    }

    /// Checks the cheap rules (length, no email, not a common password) that need no estimator. Run it before
    /// estimating, so the estimator never sees an overlong input.
    ///
    /// # Errors
    /// The first [`PasswordProblem`] found.
    pub fn check_shape(
        &self,
        password: &SecretString,
        email: &Email,
    ) -> Result<(), PasswordProblem> {
        let chars = password.expose().chars().count();
        if chars < self.min_chars {
            return Err(PasswordProblem::TooShort {
                min: self.min_chars,
            });
        }
        if chars > self.max_chars {
            return Err(PasswordProblem::TooLong {
                max: self.max_chars,
            });
        }
        let local = email.local_part();
        if local.chars().count() >= 3 && password.expose().to_lowercase().contains(local) {
            return Err(PasswordProblem::ContainsEmail);
        }
        if is_common(password.expose()) {
            return Err(PasswordProblem::Common);
        }
        Ok(())
    }

    /// Checks the estimated strength `score` (0 to 4).
    ///
    /// # Errors
    /// [`PasswordProblem::TooWeak`] under the minimum.
    pub fn check_score(&self, score: u8) -> Result<(), PasswordProblem> {
        if score < self.min_score {
            Err(PasswordProblem::TooWeak)
        } else {
            Ok(())
        }
    }

    /// The longest password accepted (also the bound for sign-in attempts).
    pub fn max_chars(&self) -> usize {
        self.max_chars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> SecretString {
        SecretString::new(s.to_owned())
    }

    #[test]
    fn every_common_password_long_enough_to_pass_the_length_rule_is_refused() {
        let policy = PasswordPolicy::default();
        let email = Email::parse("zq@example.org").unwrap();
        let mut checked = 0;
        for common in COMMON_PASSWORDS.lines().filter(|p| p.chars().count() >= 10) {
            for spelling in [
                common.to_owned(),
                common.to_uppercase(),
                format!(" {common} "),
            ] {
                assert_eq!(
                    policy.check_shape(&pw(&spelling), &email),
                    Err(PasswordProblem::Common),
                    "{spelling}"
                );
            }
            checked += 1;
        }
        assert!(
            checked > 1_500,
            "{checked} common passwords of 10 characters or more"
        );
        assert!(is_common("Password1234") || is_common("qwertyuiop"));
        assert_eq!(
            policy.check_shape(&pw("otter gravel lantern"), &email),
            Ok(())
        );
    }

    #[test]
    fn shape_rules_say_what_to_change() {
        let policy = PasswordPolicy::default();
        let email = Email::parse("ranger.ann@example.org").unwrap();
        assert_eq!(
            policy.check_shape(&pw("short"), &email),
            Err(PasswordProblem::TooShort { min: 10 })
        );
        assert_eq!(
            policy.check_shape(&pw(&"x".repeat(129)), &email),
            Err(PasswordProblem::TooLong { max: 128 })
        );
        // The edges (ASVS 6.2.1: at least 10; 6.2.9: 64 and more allowed, up to 128).
        assert_eq!(
            policy.check_shape(&pw("gravel-ot"), &email),
            Err(PasswordProblem::TooShort { min: 10 })
        );
        assert!(policy.check_shape(&pw("gravel-ot9"), &email).is_ok());
        for long in [64, 128] {
            let phrase: String = "otter gravel lantern ".chars().cycle().take(long).collect();
            assert!(
                policy.check_shape(&pw(&phrase), &email).is_ok(),
                "{long} characters are allowed"
            );
        }
        assert_eq!(
            policy.check_shape(&pw("my-Ranger.Ann-secret"), &email),
            Err(PasswordProblem::ContainsEmail)
        );
        assert!(
            policy
                .check_shape(&pw("otter gravel lantern"), &email)
                .is_ok()
        );
        assert!(
            policy.check_shape(&pw(&"é".repeat(10)), &email).is_ok(),
            "characters, not bytes"
        );
        assert_eq!(policy.check_score(2), Err(PasswordProblem::TooWeak));
        assert!(policy.check_score(3).is_ok());
        assert_eq!(
            PasswordProblem::TooShort { min: 10 }.to_string(),
            "use at least 10 characters"
        );
        assert!(PasswordPolicy::new(6, 10, 3).is_err());
    }
}

//! The input and business rules of the registry: field formats, lengths, patterns and
//! whitelists, the case status state machine, and the recovery-passphrase policy.
//!
//! Every rejection is an [`Error::Invalid`] with a stable `code` (the UI shows the message beside
//! `field`). The registry's schema repeats the same rules as CHECK constraints and triggers (see
//! `registry/migrations.rs`), so a write that bypasses this module still cannot break them.
//!
//! Free text (titles, descriptions, reasons) is stored exactly as given: nothing here escapes or
//! strips HTML. Escaping is the job of whoever shows it.

use std::fmt;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The default case-number pattern: the year and a six-digit serial, e.g. `2026-000123`.
pub const DEFAULT_CASE_NUMBER_PATTERN: &str = r"^\d{4}-\d{6}$";
/// Whatever the configured pattern, a case number is 1..=40 of `[0-9A-Za-z./_-]` (the registry
/// enforces this envelope too).
pub const CASE_NUMBER_MAX: usize = 40;
pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 10_000;
pub const OFFICER_NAME_MIN: usize = 2;
pub const OFFICER_NAME_MAX: usize = 100;
pub const BADGE_MAX: usize = 16;
pub const REASON_MAX: usize = 1_000;
pub const PASSPHRASE_MIN: usize = 10;
/// The lowest zxcvbn score (0..=4) a recovery passphrase may have.
pub const PASSPHRASE_MIN_SCORE: u8 = 3;

fn invalid(code: &'static str, field: &'static str, message: impl Into<String>) -> Error {
    Error::Invalid {
        code,
        field,
        message: message.into(),
    }
}

/// The configurable rules (today: the case-number pattern, from the station's settings).
#[derive(Debug, Clone)]
pub struct Rules {
    case_number: Regex,
    pattern: String,
}

impl Default for Rules {
    fn default() -> Self {
        Self::with_case_number_pattern(DEFAULT_CASE_NUMBER_PATTERN)
            .unwrap_or_else(|_| unreachable!("the default pattern compiles"))
    }
}

impl Rules {
    /// Rules with the agency's own case-number pattern. The pattern is anchored for you
    /// (`2026-\d+` matches the whole number, never a part of it).
    pub fn with_case_number_pattern(pattern: &str) -> Result<Self> {
        let anchored = format!("^(?:{pattern})$");
        let case_number = Regex::new(&anchored).map_err(|e| Error::Config {
            message: format!("the case number pattern `{pattern}` is not a valid regular expression ({e}); fix it in the settings"),
        })?;
        Ok(Self {
            case_number,
            pattern: pattern.to_string(),
        })
    }

    pub fn case_number_pattern(&self) -> &str {
        &self.pattern
    }

    /// `case_number_invalid` unless `number` matches the pattern and the registry's envelope.
    pub fn case_number(&self, number: &str) -> Result<()> {
        let envelope = !number.is_empty()
            && number.chars().count() <= CASE_NUMBER_MAX
            && number
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '/' | '.' | '_'));
        if envelope && self.case_number.is_match(number) {
            Ok(())
        } else {
            Err(invalid(
                "case_number_invalid",
                "number",
                format!(
                    "the case number must look like 2026-000123 (pattern {}); check the number and enter it again",
                    self.pattern
                ),
            ))
        }
    }
}

fn has_control(s: &str, allow_newlines: bool) -> bool {
    s.chars()
        .any(|c| c.is_control() && !(allow_newlines && matches!(c, '\n' | '\r' | '\t')))
}

/// A case title: required, at most [`TITLE_MAX`] characters, one line.
pub fn title(t: &str) -> Result<()> {
    if t.trim().is_empty() {
        return Err(invalid(
            "title_required",
            "title",
            "a case needs a title; enter a short description of the case",
        ));
    }
    if t.chars().count() > TITLE_MAX {
        return Err(invalid(
            "title_too_long",
            "title",
            format!("the title is longer than {TITLE_MAX} characters; shorten it and put the detail in the description"),
        ));
    }
    if has_control(t, false) {
        return Err(invalid(
            "title_invalid",
            "title",
            "the title must be one line without control characters",
        ));
    }
    Ok(())
}

/// A case description: optional, at most [`DESCRIPTION_MAX`] characters; line breaks allowed.
pub fn description(d: &str) -> Result<()> {
    if d.chars().count() > DESCRIPTION_MAX {
        return Err(invalid(
            "description_too_long",
            "description",
            format!("the description is longer than {DESCRIPTION_MAX} characters; shorten it or attach the text as a document"),
        ));
    }
    if has_control(d, true) {
        return Err(invalid(
            "description_invalid",
            "description",
            "the description contains control characters; remove them and try again",
        ));
    }
    Ok(())
}

/// An officer's name: letters, spaces, apostrophes, hyphens and full stops, starting with a
/// letter, [`OFFICER_NAME_MIN`]..=[`OFFICER_NAME_MAX`] characters, no surrounding spaces.
pub fn officer_name(n: &str) -> Result<()> {
    let len = n.chars().count();
    let ok = (OFFICER_NAME_MIN..=OFFICER_NAME_MAX).contains(&len)
        && n.chars().next().is_some_and(char::is_alphabetic)
        && !n.ends_with(' ')
        && !n.contains("  ")
        && n.chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '\'' | '’' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "officer_name_invalid",
            "officer",
            format!("the officer's name must be {OFFICER_NAME_MIN} to {OFFICER_NAME_MAX} letters (spaces, apostrophes, hyphens and full stops allowed), e.g. Jane O'Neil"),
        ))
    }
}

/// A badge number: 1..=[`BADGE_MAX`] of letters, digits and hyphens, starting with a letter or digit.
pub fn badge_number(b: &str) -> Result<()> {
    let ok = !b.is_empty()
        && b.len() <= BADGE_MAX
        && b.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && b.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "badge_number_invalid",
            "badge",
            format!("the badge number must be 1 to {BADGE_MAX} letters, digits or hyphens, e.g. PC-4471"),
        ))
    }
}

/// A reason (for reopening a case, setting or releasing a hold, a restore): required text of at
/// most [`REASON_MAX`] characters.
pub fn reason(r: Option<&str>) -> Result<&str> {
    match r {
        Some(r) if !r.trim().is_empty() => {
            if r.chars().count() > REASON_MAX {
                Err(invalid(
                    "reason_too_long",
                    "reason",
                    format!("the reason is longer than {REASON_MAX} characters; shorten it"),
                ))
            } else if has_control(r, true) {
                Err(invalid(
                    "reason_invalid",
                    "reason",
                    "the reason contains control characters; remove them",
                ))
            } else {
                Ok(r)
            }
        }
        _ => Err(invalid(
            "reason_required",
            "reason",
            "a reason is required for this change; say why it is being made",
        )),
    }
}

/// Where a case is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum CaseStatus {
    Open,
    UnderInvestigation,
    Closed,
    Archived,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 4] = [
        CaseStatus::Open,
        CaseStatus::UnderInvestigation,
        CaseStatus::Closed,
        CaseStatus::Archived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::UnderInvestigation => "under_investigation",
            CaseStatus::Closed => "closed",
            CaseStatus::Archived => "archived",
        }
    }

    /// Parses a status name (`open`, `under_investigation`, `closed`, `archived`; a space or
    /// hyphen may stand for the underscore, any case). `status_invalid` otherwise.
    pub fn parse(s: &str) -> Result<Self> {
        let norm = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == norm)
            .ok_or_else(|| {
                invalid(
                    "status_invalid",
                    "status",
                    "the status must be one of: open, under_investigation, closed, archived",
                )
            })
    }

    /// Whether moving from `self` to `to` is a reopening (which needs a reason).
    pub fn is_reopening(self, to: CaseStatus) -> bool {
        self == CaseStatus::Closed
            && matches!(to, CaseStatus::Open | CaseStatus::UnderInvestigation)
    }
}

impl fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status state machine: open → under_investigation → closed → archived, one step at a
/// time; closed → open or under_investigation reopens the case and needs a reason; archived is
/// final. Staying in the same status is always allowed.
pub fn status_transition(from: CaseStatus, to: CaseStatus, why: Option<&str>) -> Result<()> {
    use CaseStatus::*;
    if from == to {
        return Ok(());
    }
    let forward = matches!(
        (from, to),
        (Open, UnderInvestigation) | (UnderInvestigation, Closed) | (Closed, Archived)
    );
    if forward {
        return Ok(());
    }
    if from.is_reopening(to) {
        return reason(why).map(|_| ());
    }
    Err(invalid(
        "status_transition_invalid",
        "status",
        format!("a case cannot go from {from} to {to}; the order is open → under_investigation → closed → archived (a closed case can be reopened with a reason)"),
    ))
}

/// The recovery-passphrase policy (CJIS: at least 10 characters with upper case, lower case, a
/// digit and a symbol, not a dictionary word) plus a zxcvbn strength of at least
/// [`PASSPHRASE_MIN_SCORE`].
pub mod passphrase_rule {
    pub const MIN_LENGTH: &str = "min_length";
    pub const UPPER: &str = "upper";
    pub const LOWER: &str = "lower";
    pub const DIGIT: &str = "digit";
    pub const SYMBOL: &str = "symbol";
    pub const NOT_DICTIONARY_WORD: &str = "not_dictionary_word";
    pub const STRENGTH: &str = "strength";
}

/// One line of the passphrase checklist the UI shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PassphraseCheck {
    /// A stable rule name from [`passphrase_rule`].
    pub rule: &'static str,
    /// What the rule asks for, e.g. "an upper-case letter".
    pub label: &'static str,
    pub met: bool,
}

/// The outcome of checking a passphrase. Never contains the passphrase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PassphraseReport {
    /// All checks met.
    pub ok: bool,
    /// zxcvbn's score, 0 (guessable) ..= 4 (very strong).
    pub score: u8,
    pub checks: Vec<PassphraseCheck>,
    /// zxcvbn's warning, e.g. "This is a very common password".
    pub warning: Option<String>,
    /// zxcvbn's suggestions, e.g. "Add another word or two".
    pub suggestions: Vec<String>,
}

impl PassphraseReport {
    /// The labels of the checks that are not met.
    pub fn missing(&self) -> Vec<&'static str> {
        self.checks
            .iter()
            .filter(|c| !c.met)
            .map(|c| c.label)
            .collect()
    }
}

/// zxcvbn's cost grows with the length; a passphrase longer than this is judged on its start
/// (which only makes the estimate more cautious).
const ZXCVBN_MAX_CHARS: usize = 128;

fn prefix_chars(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

/// True when the passphrase is one dictionary word (possibly capitalised, reversed or with l33t
/// substitutions) with only digits and symbols around it, e.g. `Password123!` or `P@ssw0rd!!`.
fn is_dictionary_word(p: &str) -> bool {
    let (Some(start), Some(end)) = (
        p.char_indices().find(|(_, c)| c.is_alphabetic()),
        p.char_indices().rev().find(|(_, c)| c.is_alphabetic()),
    ) else {
        return false;
    };
    let core = prefix_chars(&p[start.0..end.0 + end.1.len_utf8()], ZXCVBN_MAX_CHARS).to_lowercase();
    let entropy = zxcvbn::zxcvbn(&core, &[]);
    let seq = entropy.sequence();
    seq.len() == 1
        && matches!(
            seq[0].pattern,
            zxcvbn::matching::patterns::MatchPattern::Dictionary(_)
        )
}

/// The checklist for a passphrase, whether or not it passes (the UI's live meter).
pub fn passphrase_report(p: &str) -> PassphraseReport {
    let entropy = zxcvbn::zxcvbn(prefix_chars(p, ZXCVBN_MAX_CHARS), &["strongroom"]);
    let score = u8::from(entropy.score());
    let (warning, suggestions) = match entropy.feedback() {
        Some(f) => (
            f.warning().map(|w| w.to_string()),
            f.suggestions().iter().map(|s| s.to_string()).collect(),
        ),
        None => (None, Vec::new()),
    };
    use passphrase_rule::*;
    let checks = vec![
        PassphraseCheck {
            rule: MIN_LENGTH,
            label: "at least 10 characters",
            met: p.chars().count() >= PASSPHRASE_MIN,
        },
        PassphraseCheck {
            rule: UPPER,
            label: "an upper-case letter",
            met: p.chars().any(char::is_uppercase),
        },
        PassphraseCheck {
            rule: LOWER,
            label: "a lower-case letter",
            met: p.chars().any(char::is_lowercase),
        },
        PassphraseCheck {
            rule: DIGIT,
            label: "a digit",
            met: p.chars().any(|c| c.is_ascii_digit()),
        },
        PassphraseCheck {
            rule: SYMBOL,
            label: "a symbol (e.g. ! # % & * - _)",
            met: p
                .chars()
                .any(|c| !c.is_alphanumeric() && !c.is_whitespace() && !c.is_control()),
        },
        PassphraseCheck {
            rule: NOT_DICTIONARY_WORD,
            label: "not a dictionary word",
            met: !is_dictionary_word(p),
        },
        PassphraseCheck {
            rule: STRENGTH,
            label: "hard to guess (strength 3 of 4 or more)",
            met: score >= PASSPHRASE_MIN_SCORE,
        },
    ];
    PassphraseReport {
        ok: checks.iter().all(|c| c.met),
        score,
        checks,
        warning,
        suggestions,
    }
}

/// Checks a recovery passphrase against the policy: the report when it passes,
/// `passphrase_weak` listing what is missing when it does not.
pub fn passphrase(p: &str) -> Result<PassphraseReport> {
    let report = passphrase_report(p);
    if report.ok {
        Ok(report)
    } else {
        Err(invalid(
            "passphrase_weak",
            "passphrase",
            format!(
                "the recovery passphrase is too weak; it still needs: {}",
                report.missing().join(", ")
            ),
        ))
    }
}

#[cfg(test)]
mod tests;

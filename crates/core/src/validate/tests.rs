use proptest::prelude::*;

use super::*;

fn code<T: std::fmt::Debug>(r: Result<T>) -> &'static str {
    match r {
        Ok(v) => panic!("expected a rejection, got Ok({v:?})"),
        Err(Error::Invalid { code, .. }) => code,
        Err(e) => panic!("expected Error::Invalid, got {e:?}"),
    }
}

#[test]
fn default_case_number_pattern() {
    let r = Rules::default();
    assert!(r.case_number("2026-000123").is_ok());
    for bad in [
        "",
        "2026-00012",
        "2026-0001234",
        "26-000123",
        "2026_000123",
        " 2026-000123",
        "2026-000123\n",
        "x2026-000123",
        "2026-000123x",
        "２０２６-000123",
    ] {
        assert_eq!(code(r.case_number(bad)), "case_number_invalid", "{bad:?}");
    }
}

#[test]
fn configured_case_number_pattern_is_anchored() {
    let r = Rules::with_case_number_pattern(r"NG/\d{2}/\d+").unwrap();
    assert!(r.case_number("NG/26/17").is_ok());
    assert_eq!(code(r.case_number("xNG/26/17")), "case_number_invalid");
    assert_eq!(code(r.case_number("2026-000123")), "case_number_invalid");
    assert_eq!(
        Rules::with_case_number_pattern("(").unwrap_err().code(),
        "config_invalid"
    );
    // A pattern cannot widen the registry's envelope.
    let wide = Rules::with_case_number_pattern(".*").unwrap();
    assert_eq!(code(wide.case_number("a b")), "case_number_invalid");
    assert_eq!(
        code(wide.case_number(&"1".repeat(41))),
        "case_number_invalid"
    );
    assert!(wide.case_number("A.b_c/1-2").is_ok());
}

#[test]
fn titles() {
    assert!(title("Burglary at 12 High St <b>&amp;</b>").is_ok());
    assert!(title(&"é".repeat(TITLE_MAX)).is_ok());
    assert_eq!(code(title("")), "title_required");
    assert_eq!(code(title("   \t")), "title_required");
    assert_eq!(code(title(&"a".repeat(TITLE_MAX + 1))), "title_too_long");
    assert_eq!(code(title("two\nlines")), "title_invalid");
    assert_eq!(code(title("nul\0byte")), "title_invalid");
}

#[test]
fn descriptions() {
    assert!(description("").is_ok());
    assert!(description("line 1\r\nline 2\ttabbed; DROP TABLE cases;--").is_ok());
    assert!(description(&"d".repeat(DESCRIPTION_MAX)).is_ok());
    assert_eq!(
        code(description(&"d".repeat(DESCRIPTION_MAX + 1))),
        "description_too_long"
    );
    assert_eq!(code(description("bell\u{7}")), "description_invalid");
}

#[test]
fn officer_names() {
    for ok in ["Jane O'Neil", "Zoë Müller-Łukasz", "J. Smith", "Li"] {
        assert!(officer_name(ok).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "J",
        "Jane2",
        " Jane",
        "Jane ",
        "Jane  Doe",
        "<script>",
        "-Jane",
        &"a".repeat(OFFICER_NAME_MAX + 1),
    ] {
        assert_eq!(code(officer_name(bad)), "officer_name_invalid", "{bad:?}");
    }
}

#[test]
fn badge_numbers() {
    for ok in ["4471", "PC-4471", "a1"] {
        assert!(badge_number(ok).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "-1",
        "PC 4471",
        "PC_4471",
        &"1".repeat(BADGE_MAX + 1),
        "4471é",
    ] {
        assert_eq!(code(badge_number(bad)), "badge_number_invalid", "{bad:?}");
    }
}

#[test]
fn statuses_parse_from_a_whitelist() {
    assert_eq!(CaseStatus::parse("open").unwrap(), CaseStatus::Open);
    assert_eq!(
        CaseStatus::parse("Under investigation").unwrap(),
        CaseStatus::UnderInvestigation
    );
    assert_eq!(
        CaseStatus::parse("under-investigation").unwrap(),
        CaseStatus::UnderInvestigation
    );
    for bad in ["", "opened", "deleted", "closed;"] {
        assert_eq!(code(CaseStatus::parse(bad)), "status_invalid", "{bad:?}");
    }
    for s in CaseStatus::ALL {
        assert_eq!(CaseStatus::parse(s.as_str()).unwrap(), s);
        assert_eq!(
            serde_json::to_value(s).unwrap(),
            serde_json::Value::String(s.as_str().into())
        );
    }
}

/// The full transition table: every (from, to) pair, with and without a reason.
#[test]
fn status_state_machine() {
    use CaseStatus::*;
    let allowed = |from, to| {
        matches!(
            (from, to),
            (Open, UnderInvestigation) | (UnderInvestigation, Closed) | (Closed, Archived)
        ) || from == to
    };
    for from in CaseStatus::ALL {
        for to in CaseStatus::ALL {
            let with = status_transition(from, to, Some("new evidence"));
            let without = status_transition(from, to, None);
            if allowed(from, to) {
                assert!(with.is_ok() && without.is_ok(), "{from}->{to}");
            } else if from.is_reopening(to) {
                assert!(with.is_ok(), "{from}->{to} with a reason");
                assert_eq!(code(without), "reason_required", "{from}->{to}");
                assert_eq!(
                    code(status_transition(from, to, Some("  "))),
                    "reason_required"
                );
            } else {
                assert_eq!(code(with), "status_transition_invalid", "{from}->{to}");
                assert_eq!(code(without), "status_transition_invalid", "{from}->{to}");
            }
        }
    }
}

#[test]
fn reasons() {
    assert_eq!(
        reason(Some("court order 12/2026")).unwrap(),
        "court order 12/2026"
    );
    assert_eq!(code(reason(None)), "reason_required");
    assert_eq!(code(reason(Some(""))), "reason_required");
    assert_eq!(
        code(reason(Some(&"r".repeat(REASON_MAX + 1)))),
        "reason_too_long"
    );
    assert_eq!(code(reason(Some("esc\u{1b}[2J"))), "reason_invalid");
}

fn missing_rules(p: &str) -> Vec<&'static str> {
    passphrase_report(p)
        .checks
        .iter()
        .filter(|c| !c.met)
        .map(|c| c.rule)
        .collect()
}

#[test]
fn passphrase_policy_accepts_a_strong_one() {
    let report = passphrase("Tangerine-Viaduct-47-Orbit!").unwrap();
    assert!(report.ok);
    assert!(report.score >= PASSPHRASE_MIN_SCORE);
    assert!(report.missing().is_empty());
}

#[test]
fn passphrase_policy_lists_what_is_missing() {
    use passphrase_rule::*;
    assert!(missing_rules("Ab1!").contains(&MIN_LENGTH));
    assert!(missing_rules("lowercase-only-words-9").contains(&UPPER));
    assert!(missing_rules("UPPERCASE-ONLY-WORDS-9").contains(&LOWER));
    assert!(missing_rules("No-Digits-Here-At-All").contains(&DIGIT));
    assert!(missing_rules("NoSymbolsHere2026xyz").contains(&SYMBOL));
    assert!(missing_rules("Password123!").contains(&NOT_DICTIONARY_WORD));
    assert!(missing_rules("P@ssw0rd!!").contains(&NOT_DICTIONARY_WORD));
    assert!(missing_rules("Qwerty123!").contains(&STRENGTH));
    // The error names every missing item, and never the passphrase itself.
    let err = passphrase("Password123!").unwrap_err();
    assert_eq!(err.code(), "passphrase_weak");
    let msg = err.to_string();
    assert!(msg.contains("not a dictionary word"), "{msg}");
    assert!(!msg.contains("Password123!"), "{msg}");
    let err = passphrase("abc").unwrap_err().to_string();
    for item in [
        "at least 10 characters",
        "an upper-case letter",
        "a digit",
        "a symbol",
    ] {
        assert!(err.contains(item), "{err}");
    }
}

#[test]
fn passphrase_report_never_contains_the_passphrase() {
    let p = "CanaryPass-93!x";
    let json = serde_json::to_string(&passphrase_report(p)).unwrap();
    assert!(!json.contains(p));
}

#[test]
fn very_long_passphrases_are_judged_quickly() {
    let long = "Aa1!".repeat(10_000);
    let t = std::time::Instant::now();
    let r = passphrase_report(&long);
    assert!(t.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(r.checks.len(), 7);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_case_numbers_are_accepted(y in 1000u32..10000, n in 0u32..1_000_000) {
        let number = format!("{y}-{n:06}");
        prop_assert!(Rules::default().case_number(&number).is_ok());
    }

    #[test]
    fn case_numbers_off_the_pattern_are_rejected(s in "\\PC{0,20}") {
        let fits = regex::Regex::new(r"^\d{4}-\d{6}$").unwrap().is_match(&s) && s.is_ascii();
        let r = Rules::default().case_number(&s);
        prop_assert_eq!(r.is_ok(), fits);
    }

    #[test]
    fn title_length_rule(len in 0usize..400, c in proptest::char::range('a', 'z')) {
        let t: String = std::iter::repeat_n(c, len).collect();
        let r = title(&t);
        match len {
            0 => prop_assert_eq!(code(r), "title_required"),
            1..=TITLE_MAX => prop_assert!(r.is_ok()),
            _ => prop_assert_eq!(code(r), "title_too_long"),
        }
    }

    #[test]
    fn any_text_gets_a_verdict_not_a_panic(s in "\\PC*|.*") {
        let _ = title(&s);
        let _ = description(&s);
        let _ = officer_name(&s);
        let _ = badge_number(&s);
        let _ = reason(Some(&s));
        let _ = CaseStatus::parse(&s);
        let _ = Rules::default().case_number(&s);
    }

    #[test]
    fn printable_text_is_a_valid_description(s in "[\\PC\n\t]{0,300}") {
        prop_assert!(description(&s).is_ok());
    }

    #[test]
    fn badges_follow_the_charset(b in "[A-Za-z0-9][A-Za-z0-9-]{0,15}") {
        prop_assert!(badge_number(&b).is_ok());
    }

    #[test]
    fn badges_with_other_characters_are_rejected(prefix in "[A-Z0-9]{1,5}", bad in "[ _./@#é]") {
        let b = format!("{prefix}{bad}");
        prop_assert_eq!(code(badge_number(&b)), "badge_number_invalid");
    }

    #[test]
    fn names_with_digits_are_rejected(name in "[A-Z][a-z]{1,10}", d in 0u8..10) {
        prop_assert!(officer_name(&name).is_ok());
        prop_assert_eq!(code(officer_name(&format!("{name}{d}"))), "officer_name_invalid");
    }

    #[test]
    fn passphrase_verdict_matches_its_checklist(p in "[a-zA-Z0-9!#%&*_-]{0,24}") {
        let report = passphrase_report(&p);
        prop_assert_eq!(report.ok, report.checks.iter().all(|c| c.met));
        prop_assert_eq!(passphrase(&p).is_ok(), report.ok);
        if p.chars().count() < PASSPHRASE_MIN {
            prop_assert!(!report.ok);
        }
    }
}

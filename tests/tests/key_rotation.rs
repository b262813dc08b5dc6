//! The Settings screen's key jobs through the core, on a station made by the real CLI: rotating
//! the master key keeps older backups readable and re-seals the recovery file with every key;
//! changing the recovery passphrase needs the current one (a wrong one changes nothing), and
//! afterwards only the new one opens the recovery file. Both are audited.

use strongroom_core::crypto::recovery;
use strongroom_core::jobs::{key_rotation, Context};
use strongroom_core::paths::Home;
use strongroom_core::secrets::Sensitive;
use strongroom_tests::cli::{Initialised, PASSPHRASE};
use strongroom_tests::services;

fn recovery_file(s: &Initialised) -> Vec<u8> {
    std::fs::read(s.st.home().join("backups").join(recovery::file_name(&s.id)))
        .expect("the local recovery file")
}

#[test]
fn rotation_keeps_old_backups_readable_and_a_passphrase_change_needs_the_current_one() {
    if services::keyring().is_none() {
        return;
    }
    let s = Initialised::new(&[]);
    s.json(&[
        "case",
        "add",
        "--number",
        "2026-000301",
        "--title",
        "Arson, Mill Yard",
    ]);
    let before = s.json(&["backup", "create", "--local-only"]);
    let ctx = Context::open(&Home::at(s.st.home()), "test", None).expect("context");
    let old_key = strongroom_core::crypto::KeyStore::for_station(&s.id)
        .current_id()
        .unwrap()
        .unwrap()
        .to_hex();

    // A wrong passphrase rotates nothing.
    let wrong = Sensitive::new("Not-The-Passphrase 41!".to_string());
    let e = key_rotation::rotate(&ctx, &wrong).unwrap_err();
    assert_eq!(e.code(), "wrong_passphrase", "{e}");

    let pass = Sensitive::new(PASSPHRASE.to_string());
    let rotated = key_rotation::rotate(&ctx, &pass).expect("rotate");
    assert_ne!(rotated.key_id, old_key);
    let keys = recovery::open(&recovery_file(&s), &pass).expect("the re-sealed recovery file");
    assert_eq!(
        keys.keys.len(),
        2,
        "the recovery file holds the old and the new key"
    );

    // A backup made before the rotation and one after both verify.
    let after = s.json(&["backup", "create", "--local-only"]);
    for b in [&before, &after] {
        let v = s.json(&["backup", "verify", b["id"].as_str().unwrap()]);
        assert_eq!(v["ok"], true, "{v}");
    }

    // Changing the passphrase: a wrong current one leaves the file as it was.
    let file_before = recovery_file(&s);
    let new = Sensitive::new("Harbour-Lantern 2027 Quay!".to_string());
    let e = key_rotation::change_passphrase(&ctx, &wrong, &new).unwrap_err();
    assert_eq!(e.code(), "wrong_passphrase", "{e}");
    assert_eq!(recovery_file(&s), file_before);
    let weak = Sensitive::new("password".to_string());
    let e = key_rotation::change_passphrase(&ctx, &pass, &weak).unwrap_err();
    assert_eq!(e.code(), "passphrase_weak", "{e}");
    key_rotation::change_passphrase(&ctx, &pass, &new).expect("change");
    let file = recovery_file(&s);
    assert_eq!(
        recovery::open(&file, &pass).unwrap_err().code(),
        "wrong_passphrase"
    );
    assert_eq!(
        recovery::open(&file, &new)
            .expect("new passphrase")
            .keys
            .len(),
        2
    );

    let audit = s.json(&["audit", "list", "--limit", "200"]);
    let events: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["event"].as_str())
        .collect();
    assert!(events.contains(&"KEY_ROTATED"), "{events:?}");
    assert!(events.contains(&"CREDENTIALS_CHANGED"), "{events:?}");
}

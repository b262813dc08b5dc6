//! The OS keyring that `make test` unlocks really stores, returns and forgets a secret.

use strongroom_core::secrets::{Keyring, Sensitive};
use strongroom_tests::services;

#[test]
fn a_secret_round_trips_through_the_os_keyring() {
    if services::keyring().is_none() {
        return;
    }
    let ring = Keyring::for_station(&services::unique_name("smoke"));
    assert!(ring.get("probe-secret").unwrap().is_none());
    ring.set(
        "probe-secret",
        &Sensitive::new("canary-value-7f3a".to_string()),
    )
    .unwrap();
    let back = ring.get("probe-secret").unwrap().expect("stored secret");
    assert_eq!(back.expose(), "canary-value-7f3a");
    ring.delete("probe-secret").unwrap();
    assert!(ring.get("probe-secret").unwrap().is_none());
}

#[test]
fn keyring_entries_are_scoped_by_station() {
    if services::keyring().is_none() {
        return;
    }
    let a = Keyring::for_station(&services::unique_name("station-a"));
    let b = Keyring::for_station(&services::unique_name("station-b"));
    a.set("master-key", &Sensitive::new("only-a".to_string()))
        .unwrap();
    assert!(b.get("master-key").unwrap().is_none());
    a.delete("master-key").unwrap();
}

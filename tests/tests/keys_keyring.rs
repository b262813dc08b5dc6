//! The master keys live in the real OS keyring: created once, loaded by id, rotated with the
//! old keys still readable, exported to a recovery file and imported on a "new workstation"
//! (another keyring scope), where a backup sealed on the first station opens.

use std::io::Write;

use strongroom_core::archive::{self, Manifest, WriteParams};
use strongroom_core::crypto::{recovery, KdfParams, KeyStore, MasterKeys};
use strongroom_core::secrets::Sensitive;
use strongroom_tests::services;

fn seal(store: &KeyStore, text: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = archive::Writer::new(
        &mut out,
        &store.current().unwrap(),
        WriteParams::new(store.station_id()),
    )
    .unwrap();
    w.write_all(text).unwrap();
    w.finish(&Manifest::registry_snapshot(1, Default::default()))
        .unwrap();
    out
}

fn open(keys: &dyn MasterKeys, file: &[u8]) -> strongroom_core::Result<Vec<u8>> {
    let mut out = Vec::new();
    archive::Reader::open(file, keys)?.decrypt_to(&mut out)?;
    Ok(out)
}

/// Removes the station's keys even when an assertion fails.
struct Cleanup(KeyStore);
impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = self.0.remove_all();
    }
}

#[test]
fn master_keys_live_in_the_keyring_rotate_and_recover_on_a_new_workstation() {
    if services::keyring().is_none() {
        return;
    }
    let station = services::unique_name("keys-a");
    let store = KeyStore::for_station(&station);
    let _cleanup = Cleanup(store.clone());

    assert!(store.current_id().unwrap().is_none());
    assert_eq!(store.current().unwrap_err().code(), "not_initialised");
    let first = store.create().unwrap();
    assert_eq!(store.create().unwrap_err().code(), "already_exists");
    assert_eq!(store.current().unwrap(), first);
    assert_eq!(store.ids().unwrap(), vec![first.id()]);

    let old_backup = seal(&store, b"sealed under the first key");
    let second = store.rotate().unwrap();
    assert_ne!(second.id(), first.id());
    assert_eq!(store.current().unwrap().id(), second.id());
    assert_eq!(store.ids().unwrap(), vec![first.id(), second.id()]);
    assert_eq!(store.load(&first.id()).unwrap(), first);
    let new_backup = seal(&store, b"sealed under the second key");
    assert_eq!(
        archive::peek_header(&new_backup[..]).unwrap().key_id,
        second.id()
    );
    // Both readable from the keyring.
    assert_eq!(
        open(&store, &old_backup).unwrap(),
        b"sealed under the first key"
    );
    assert_eq!(
        open(&store, &new_backup).unwrap(),
        b"sealed under the second key"
    );

    // Recovery file with every key; a new workstation (a fresh keyring scope) recovers.
    let pass = Sensitive::new("Recovery-Passphrase-42!".to_string());
    let file = recovery::seal(&store.key_set().unwrap(), &pass, KdfParams::default()).unwrap();
    let set = recovery::open(&file, &pass).unwrap();
    assert_eq!(set.station_id, station);
    assert_eq!(set.current, second.id());

    let fresh = KeyStore::for_station(&services::unique_name("keys-b"));
    let _cleanup_b = Cleanup(fresh.clone());
    // Before recovery the new workstation's (empty) keyring cannot read station A's backup.
    assert_eq!(
        open(&fresh, &old_backup).unwrap_err().code(),
        "backup_foreign_key"
    );
    let added = fresh.import(&set).unwrap();
    assert_eq!(added.len(), 2);
    assert_eq!(fresh.current().unwrap().id(), second.id());
    assert_eq!(
        open(&fresh, &old_backup).unwrap(),
        b"sealed under the first key"
    );
    // Importing again adds nothing.
    assert!(fresh.import(&set).unwrap().is_empty());

    // A key deleted from the keyring is reported as missing, by id.
    let lonely = KeyStore::for_station(&station);
    strongroom_core::secrets::Keyring::for_station(&station)
        .delete(&format!("master-key/{}", first.id()))
        .unwrap();
    let e = open(&lonely, &old_backup).unwrap_err();
    assert_eq!(e.code(), "key_missing");
    assert!(e.to_string().contains(&first.id().to_hex()));
}

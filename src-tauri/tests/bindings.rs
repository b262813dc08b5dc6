//! ui/src/bindings.ts is generated from the Rust commands and types; a stale copy fails here.
//! Regenerate with `make bindings` (STRONGROOM_WRITE_BINDINGS=1 makes this test write it).

use std::path::Path;

#[test]
fn typescript_bindings_match_the_rust_commands() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings.ts");
    let fresh = tempfile::NamedTempFile::new().expect("temp file");
    strongroom_app::export_bindings(fresh.path()).expect("export bindings");
    let fresh = std::fs::read_to_string(fresh.path()).expect("read fresh bindings");
    assert!(
        fresh.contains("checkWorkstation"),
        "the export lacks the commands"
    );

    if std::env::var("STRONGROOM_WRITE_BINDINGS").as_deref() == Ok("1") {
        std::fs::write(&committed, &fresh).expect("write ui/src/bindings.ts");
        return;
    }
    let current = std::fs::read_to_string(&committed).unwrap_or_default();
    assert!(
        current == fresh,
        "ui/src/bindings.ts is stale: run `make bindings` and commit the result"
    );
}

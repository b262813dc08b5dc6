//! Object keys: one validation used by every provider, so a key that one store accepts, all do.
//!
//! A key is a `/`-separated relative path of at most 1024 bytes: no empty, `.` or `..` segment,
//! no leading `/`, no backslash, no control characters, segments of at most 255 bytes, and the
//! reserved top folder `.strongroom` (the local store's bookkeeping) is refused.

use crate::{Error, Result};

/// Longest key accepted (S3 and Azure both allow 1024 bytes).
pub const MAX_KEY_LEN: usize = 1024;
/// Longest segment (a file name on most filesystems).
pub const MAX_SEGMENT_LEN: usize = 255;
/// The local store's bookkeeping folder, never a key.
pub const RESERVED_PREFIX: &str = ".strongroom";

fn invalid(key: &str, why: &str) -> Error {
    // Control characters are escaped so a hostile key cannot forge log lines or messages.
    Error::Invalid {
        code: "object_key_invalid",
        field: "key",
        message: format!(
            "the object key {:?} is not allowed: {why}",
            key.escape_debug().to_string()
        ),
    }
}

/// Checks an object key; returns it unchanged when it is acceptable.
pub fn validate_key(key: &str) -> Result<&str> {
    if key.is_empty() {
        return Err(invalid(key, "it is empty"));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(invalid(key, "it is longer than 1024 bytes"));
    }
    if key.starts_with('/') {
        return Err(invalid(key, "it is an absolute path"));
    }
    if key.chars().any(|c| c.is_control()) {
        return Err(invalid(key, "it contains a control character"));
    }
    if key.contains('\\') {
        return Err(invalid(key, "it contains a backslash"));
    }
    if key.len() >= 2 && key.as_bytes()[1] == b':' && key.as_bytes()[0].is_ascii_alphabetic() {
        return Err(invalid(key, "it looks like a drive path"));
    }
    for (i, seg) in key.split('/').enumerate() {
        match seg {
            "" => return Err(invalid(key, "it has an empty segment (// or a trailing /)")),
            "." | ".." => return Err(invalid(key, "it has a . or .. segment")),
            s if s.len() > MAX_SEGMENT_LEN => {
                return Err(invalid(key, "a segment is longer than 255 bytes"))
            }
            s if i == 0 && s.eq_ignore_ascii_case(RESERVED_PREFIX) => {
                return Err(invalid(key, "the .strongroom folder is reserved"))
            }
            _ => {}
        }
    }
    Ok(key)
}

/// Checks a listing prefix: empty, or a key prefix (may end with `/`).
pub fn validate_prefix(prefix: &str) -> Result<&str> {
    if prefix.is_empty() {
        return Ok(prefix);
    }
    let trimmed = prefix.strip_suffix('/').unwrap_or(prefix);
    validate_key(trimmed).map(|_| prefix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn good_keys_pass() {
        for k in [
            "a",
            "backups/station-1/2026-12-03T03-00-00Z.srbk",
            "documents/2026-000123/ab12cd.pdf",
            "name with spaces/é.txt",
            "x.strongroom/y",
        ] {
            assert_eq!(validate_key(k).unwrap(), k);
        }
    }

    #[test]
    fn bad_keys_fail_with_one_code() {
        let long = "a".repeat(1025);
        let long_seg = format!("a/{}", "b".repeat(256));
        for k in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/./b",
            "a//b",
            "a/",
            "a\\b",
            "a\nb",
            "a\u{7f}b",
            "C:/x",
            ".strongroom/tmp/x",
            long.as_str(),
            long_seg.as_str(),
        ] {
            let e = validate_key(k).unwrap_err();
            assert_eq!(e.code(), "object_key_invalid", "{k:?}");
            assert!(!e.to_string().contains('\n'));
        }
    }

    #[test]
    fn prefixes() {
        assert!(validate_prefix("").is_ok());
        assert!(validate_prefix("backups/").is_ok());
        assert!(validate_prefix("../").is_err());
    }

    proptest! {
        #[test]
        fn accepted_keys_never_escape(k in "[a-z./]{1,12}") {
            if validate_key(&k).is_ok() {
                prop_assert!(!k.split('/').any(|s| s == ".." || s == "." || s.is_empty()));
                prop_assert!(!k.starts_with('/'));
            }
        }
    }
}

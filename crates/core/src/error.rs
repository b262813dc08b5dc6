//! One error type for the whole core. Every variant has a stable, snake_case `code` that the CLI
//! prints as `error[CODE]` and the app receives as `{code, message}`; scripts and the UI match on
//! the code, never on the message. Messages say what to do next and never carry a secret.

use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A field failed validation; `code` is the field rule's own stable code
    /// (e.g. `case_number_invalid`) so the UI can show it beside the field.
    #[error("{message}")]
    Invalid {
        code: &'static str,
        field: &'static str,
        message: String,
    },

    #[error("{what} was not found")]
    NotFound { what: String },

    #[error("{what} already exists")]
    AlreadyExists { what: String },

    #[error("the station home is not set up yet: run `strongroom init` first")]
    NotInitialised,

    #[error("another Strongroom job is running on this station; try again when it has finished")]
    Busy,

    #[error("the job was cancelled")]
    Cancelled,

    #[error("the settings are not valid: {message}")]
    Config { message: String },

    #[error("the OS keyring cannot be reached ({detail}); unlock the keyring or start a desktop session")]
    KeyringUnavailable { detail: String },

    #[error("{feature} is not supported by {provider}")]
    Unsupported {
        feature: &'static str,
        provider: &'static str,
    },

    #[error("a file could not be {action} at {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error("internal error: {0}")]
    Internal(String),

    // --- registry, validation and audit ---
    /// The registry file was written by a newer Strongroom.
    #[error("the case registry was written by a newer version of Strongroom (schema {found}, this version understands up to {supported}); install the newer Strongroom to open it")]
    RegistryTooNew { found: i64, supported: i64 },

    /// The registry file is damaged (not a database, or it fails SQLite's integrity check).
    #[error("the case registry is damaged ({detail}); restore it from the latest verified backup (registry file: {path})")]
    RegistryCorrupt { path: String, detail: String },

    /// Any other failure of the registry database (disk full, read-only file, …).
    #[error("the case registry could not be used ({detail}); check the disk and the file's permissions, then try again")]
    Registry { detail: String },

    /// A write tried to change or remove an audit record (the log is append-only).
    #[error("audit records can never be changed or removed")]
    AuditAppendOnly,

    /// `audit verify` found a record whose hash or chain link does not match.
    #[error("the audit log has been altered: record {first_bad} of {events} does not match the hash chain; keep this registry file as evidence and report it to your supervisor")]
    AuditChainBroken { events: u64, first_bad: u64 },
    // --- storage: object stores, their settings and credentials ---
    #[error("{store} cannot be reached ({detail}); check the network connection and the endpoint in the settings, then try again")]
    StoreUnreachable { store: String, detail: String },

    #[error("no {what} is configured for {provider}; enter it in Settings (it is kept in the OS keyring) or set it in the environment")]
    CredentialsMissing {
        provider: &'static str,
        what: &'static str,
    },

    #[error("{store} rejected the credentials (wrong key or secret); re-enter them in Settings")]
    CredentialsInvalid { store: String },

    #[error("the credentials for {store} lack the permission {permission}; ask the storage administrator to grant it")]
    PermissionDenied { store: String, permission: String },

    #[error("{store} does not exist; run `strongroom storage prepare` or check the bucket/container name in the settings")]
    DestinationMissing { store: String },

    #[error("{key} in {store} does not match its recorded SHA-256 (expected {expected}, got {actual}); the stored copy is damaged or was altered: do not use it, restore from another copy")]
    HashMismatch {
        store: String,
        key: String,
        expected: String,
        actual: String,
    },

    #[error("{key} in {store} is in an archive tier and cannot be read yet; a restore from the archive is requested by `backup restore` and `backup verify`, which wait cloud.archive_wait_minutes for it (Glacier and Azure Archive take hours): run the command again later")]
    ObjectArchived { store: String, key: String },

    #[error("the endpoint {endpoint} uses plain http; only https is allowed (plain http only for an emulator on this computer)")]
    InsecureEndpoint { endpoint: String },

    #[error("{store} failed: {detail}")]
    Store {
        store: String,
        detail: String,
        /// Whether trying again may succeed (5xx, throttling, timeouts); see `storage::retry`.
        transient: bool,
    },

    // --- Backup format and keys (crypto/, archive/) ---
    /// The recovery passphrase does not open the recovery file (or the file was altered).
    #[error("the recovery passphrase is wrong, or the recovery file was altered; check the passphrase (it is case-sensitive) and try the recovery file from another destination")]
    WrongPassphrase,

    /// No master key with this id is in this station's keyring.
    #[error("master key {key_id} is not in this station's keyring; recover the station's keys with `strongroom keys recover` and the recovery passphrase")]
    KeyMissing { key_id: String },

    /// Authentication failed: a byte of the backup was changed.
    #[error("the backup is corrupt or was tampered with ({detail}); do not restore it: use another copy of this backup or an older backup")]
    BackupCorrupt { detail: String },

    /// The backup file ends before its sealed trailer.
    #[error("the backup is incomplete: it ends before its end marker ({detail}); it was cut short while copying or uploading; use another copy or an older backup")]
    BackupTruncated { detail: String },

    /// Chunks were moved, duplicated or dropped.
    #[error("the backup's pieces are out of order ({detail}): parts were moved, repeated or removed; do not restore it: use another copy or an older backup")]
    BackupReordered { detail: String },

    /// The backup was sealed by a key this station does not have (another station's key).
    #[error("the backup was sealed by station {station}'s key {key_id}, which this station does not hold; recover that station's keys with its recovery file and passphrase to read it")]
    BackupForeignKey { station: String, key_id: String },

    /// The file is in a newer format than this version of Strongroom understands.
    #[error("the {what} uses format version {version}, which this version of Strongroom cannot read; update Strongroom")]
    FormatUnsupported { what: &'static str, version: u16 },

    /// The file is not a Strongroom backup (or recovery file) at all.
    #[error(
        "{what} is not a Strongroom {expected} ({detail}); check that the right file was chosen"
    )]
    NotABackup {
        what: String,
        expected: &'static str,
        detail: String,
    },
}

impl Error {
    /// The stable code of this error. Never change an existing code: scripts match on it.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid { code, .. } => code,
            Error::NotFound { .. } => "not_found",
            Error::AlreadyExists { .. } => "already_exists",
            Error::NotInitialised => "not_initialised",
            Error::Busy => "busy",
            Error::Cancelled => "cancelled",
            Error::Config { .. } => "config_invalid",
            Error::KeyringUnavailable { .. } => "keyring_unavailable",
            Error::Unsupported { .. } => "unsupported",
            Error::Io { .. } => "io_error",
            Error::Internal(_) => "internal",
            Error::RegistryTooNew { .. } => "registry_too_new",
            Error::RegistryCorrupt { .. } => "registry_corrupt",
            Error::Registry { .. } => "registry_error",
            Error::AuditAppendOnly => "audit_append_only",
            Error::AuditChainBroken { .. } => "audit_chain_broken",
            Error::StoreUnreachable { .. } => "store_unreachable",
            Error::CredentialsMissing { .. } => "credentials_missing",
            Error::CredentialsInvalid { .. } => "credentials_invalid",
            Error::PermissionDenied { .. } => "permission_denied",
            Error::DestinationMissing { .. } => "destination_missing",
            Error::HashMismatch { .. } => "hash_mismatch",
            Error::ObjectArchived { .. } => "object_archived",
            Error::InsecureEndpoint { .. } => "insecure_endpoint",
            Error::Store { .. } => "store_error",
            Error::WrongPassphrase => "wrong_passphrase",
            Error::KeyMissing { .. } => "key_missing",
            Error::BackupCorrupt { .. } => "backup_corrupt",
            Error::BackupTruncated { .. } => "backup_truncated",
            Error::BackupReordered { .. } => "backup_reordered",
            Error::BackupForeignKey { .. } => "backup_foreign_key",
            Error::FormatUnsupported { .. } => "format_unsupported",
            Error::NotABackup { .. } => "not_a_backup",
        }
    }

    /// True when the error says a backup or the audit chain failed verification
    /// (the CLI maps these to exit code 4).
    pub fn is_verification_failure(&self) -> bool {
        matches!(
            self,
            Error::RegistryCorrupt { .. }
                | Error::AuditChainBroken { .. }
                | Error::HashMismatch { .. }
                // Backup format and keys: the file is damaged, cut short, rearranged, or sealed
                // by a key that is not ours.
                | Error::BackupCorrupt { .. }
                | Error::BackupTruncated { .. }
                | Error::BackupReordered { .. }
                | Error::BackupForeignKey { .. }
                | Error::NotABackup { .. }
        )
    }

    pub fn io(
        action: &'static str,
        path: impl AsRef<std::path::Path>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.as_ref().display().to_string(),
            source,
        }
    }

    /// What crosses to the UI or `--json`: the code and the message, nothing else.
    pub fn to_public(&self) -> PublicError {
        PublicError {
            code: self.code().to_string(),
            message: self.to_string(),
            field: match self {
                Error::Invalid { field, .. } => Some(field.to_string()),
                _ => None,
            },
        }
    }
}

/// The serialisable face of an [`Error`]: `{code, message}`.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PublicError {
    pub code: String,
    pub message: String,
    /// The input field a validation error is about, so a form can show it beside the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_snake_case_and_stable() {
        let samples = [
            Error::NotInitialised,
            Error::Busy,
            Error::Cancelled,
            Error::NotFound {
                what: "case 2026-000001".into(),
            },
            Error::Unsupported {
                feature: "legal hold",
                provider: "local folder",
            },
        ];
        let codes: Vec<_> = samples.iter().map(Error::code).collect();
        assert_eq!(
            codes,
            [
                "not_initialised",
                "busy",
                "cancelled",
                "not_found",
                "unsupported"
            ]
        );
        for c in codes {
            assert!(
                c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'),
                "{c}"
            );
        }
    }

    #[test]
    fn backup_and_key_errors_have_distinct_codes_and_verification_failures_are_marked() {
        let samples = [
            (Error::WrongPassphrase, "wrong_passphrase", false),
            (
                Error::KeyMissing {
                    key_id: "ab".repeat(16),
                },
                "key_missing",
                false,
            ),
            (
                Error::BackupCorrupt {
                    detail: "chunk 3 failed authentication".into(),
                },
                "backup_corrupt",
                true,
            ),
            (
                Error::BackupTruncated {
                    detail: "the file ends inside a chunk".into(),
                },
                "backup_truncated",
                true,
            ),
            (
                Error::BackupReordered {
                    detail: "position 2 holds chunk 3".into(),
                },
                "backup_reordered",
                true,
            ),
            (
                Error::BackupForeignKey {
                    station: "other".into(),
                    key_id: "cd".repeat(16),
                },
                "backup_foreign_key",
                true,
            ),
            (
                Error::FormatUnsupported {
                    what: "backup",
                    version: 2,
                },
                "format_unsupported",
                false,
            ),
            (
                Error::NotABackup {
                    what: "the file".into(),
                    expected: "backup",
                    detail: "it is empty".into(),
                },
                "not_a_backup",
                true,
            ),
        ];
        let mut seen = std::collections::BTreeSet::new();
        for (e, code, verification) in samples {
            assert_eq!(e.code(), code);
            assert_eq!(e.is_verification_failure(), verification, "{code}");
            assert!(seen.insert(code), "duplicate code {code}");
            assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn public_error_carries_code_and_message() {
        let e = Error::Unsupported {
            feature: "legal hold",
            provider: "local folder",
        };
        let p = e.to_public();
        assert_eq!(p.code, "unsupported");
        assert_eq!(p.message, "legal hold is not supported by local folder");
        assert_eq!(p.field, None);
        assert!(!serde_json::to_string(&p).unwrap().contains("field"));
    }

    #[test]
    fn a_validation_error_names_its_field() {
        let e = Error::Invalid {
            code: "case_number_invalid",
            field: "number",
            message: "the case number must look like 2026-000123".into(),
        };
        let p = e.to_public();
        assert_eq!(p.code, "case_number_invalid");
        assert_eq!(p.field.as_deref(), Some("number"));
    }
}

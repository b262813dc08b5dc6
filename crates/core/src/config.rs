//! Station settings: `settings.toml` in the home, overridden by the environment variables that
//! agencies already use (see shared/CLI.md). Secrets are never in the file: they come from the
//! environment when given there, else from the OS keyring ([`Settings::secret`]).
//!
//! ```toml
//! [cloud]
//! enabled = true
//! provider = "aws"          # aws | azure | none
//! retention_days = 30
//! archive_after_days = 90   # optional
//! legal_holds = true        # S3: buckets are made with Object Lock
//! archive_wait_minutes = 10 # a restore from Glacier / Azure Archive polls this long
//! archive_monthly = true    # one backup a month also goes to archive/ in the archive tier
//! archive_years = 7         # … and is kept this long
//!
//! [aws]
//! region = "eu-west-1"
//! endpoint_url = "https://s3.example.org"   # optional, S3-compatible stores
//! backup_bucket = "agency-backups"
//! documents_bucket = "agency-documents"
//! access_key_id = "AKIA…"                   # not a secret; the secret key is in the keyring
//! # or, instead of a key: the standard AWS chain (profile incl. SSO, web identity, instance role)
//! profile = "records"                       # AWS_PROFILE; implies credentials = "chain"
//! credentials = "chain"                     # keys (default) | chain
//! sse = "aws:kms"                           # AES256 (default) | aws:kms
//! kms_key_id = "arn:aws:kms:…"
//!
//! [azure]
//! account_name = "agencystore"
//! blob_endpoint = "https://agencystore.blob.core.windows.net"  # optional
//! backup_container = "backups"
//! documents_container = "documents"
//! # or, instead of a key, SAS or connection string: Microsoft Entra ID
//! tenant_id = "…"                           # AZURE_TENANT_ID
//! client_id = "…"                           # AZURE_CLIENT_ID; secret in the keyring or AZURE_CLIENT_SECRET
//! credentials = "entra_id"                  # shared_key (default) | entra_id
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::paths::Home;
use crate::secrets::{Keyring, Sensitive};
use crate::{Error, Result};

/// Backups are kept this many days unless the settings say otherwise.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;

/// Names of the secrets in the station's keyring (and the environment variables that override them).
pub mod secret_names {
    pub const AWS_SECRET_ACCESS_KEY: &str = "aws_secret_access_key";
    pub const AZURE_STORAGE_ACCOUNT_KEY: &str = "azure_storage_account_key";
    pub const AZURE_STORAGE_CONNECTION_STRING: &str = "azure_storage_connection_string";
    pub const AZURE_STORAGE_SAS_TOKEN: &str = "azure_storage_sas_token";
    pub const AZURE_CLIENT_SECRET: &str = "azure_client_secret";
}

/// Where the S3 credentials come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum AwsCredentials {
    /// An access key id (settings) and its secret (keyring or environment).
    Keys,
    /// The standard AWS chain: environment, profile (incl. SSO and credential_process), web
    /// identity, ECS and instance roles.
    Chain,
}

/// How Azure requests are authorized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum AzureCredentials {
    /// The account key, a connection string or a SAS token.
    SharedKey,
    /// Microsoft Entra ID: a service principal (tenant, client id, client secret) or, without a
    /// client secret, the machine's managed identity.
    EntraId,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum CloudProvider {
    #[default]
    None,
    Aws,
    Azure,
}

impl std::str::FromStr for CloudProvider {
    type Err = ();
    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        match s.trim().to_ascii_lowercase().as_str() {
            "aws" | "s3" => Ok(CloudProvider::Aws),
            "azure" => Ok(CloudProvider::Azure),
            "none" | "" => Ok(CloudProvider::None),
            _ => Err(()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CloudSettings {
    pub enabled: bool,
    pub provider: CloudProvider,
    pub retention_days: u32,
    pub archive_after_days: Option<u32>,
    pub legal_holds: bool,
    /// How long a restore from an archive tier waits for the store to bring the backup back
    /// (polling its status) before it stops and says to try again later. 0: request only.
    pub archive_wait_minutes: u32,
    /// Keep one backup a month in the archive tier (`archive/`), beyond the retention days.
    pub archive_monthly: bool,
    /// How many years archive copies are kept (lifecycle rule on `archive/`). Default 7.
    pub archive_years: u32,
}

impl Default for CloudSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            provider: CloudProvider::None,
            retention_days: DEFAULT_RETENTION_DAYS,
            archive_after_days: None,
            legal_holds: false,
            archive_wait_minutes: 10,
            archive_monthly: false,
            archive_years: 7,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AwsSettings {
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub backup_bucket: Option<String>,
    pub documents_bucket: Option<String>,
    pub access_key_id: Option<String>,
    /// `AES256` (default) or `aws:kms`.
    pub sse: Option<String>,
    pub kms_key_id: Option<String>,
    pub part_size_mib: Option<u64>,
    pub concurrency: Option<usize>,
    /// A named profile of the AWS config files (AWS_PROFILE); implies the standard chain.
    pub profile: Option<String>,
    /// `keys` or `chain`; unset: `chain` when a profile is named, else `keys`.
    pub credentials: Option<AwsCredentials>,
}

impl AwsSettings {
    /// The credential source in use.
    pub fn credential_source(&self) -> AwsCredentials {
        match (self.credentials, &self.profile) {
            (Some(c), _) => c,
            (None, Some(_)) if self.access_key_id.is_none() => AwsCredentials::Chain,
            _ => AwsCredentials::Keys,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AzureSettings {
    pub account_name: Option<String>,
    pub blob_endpoint: Option<String>,
    pub backup_container: Option<String>,
    pub documents_container: Option<String>,
    pub part_size_mib: Option<u64>,
    pub concurrency: Option<usize>,
    /// Entra ID tenant (AZURE_TENANT_ID).
    pub tenant_id: Option<String>,
    /// Entra ID application or user-assigned identity (AZURE_CLIENT_ID).
    pub client_id: Option<String>,
    /// `shared_key` or `entra_id`; unset: `entra_id` when a tenant and client id are given.
    pub credentials: Option<AzureCredentials>,
}

impl AzureSettings {
    /// The credential source in use.
    pub fn credential_source(&self) -> AzureCredentials {
        match self.credentials {
            Some(c) => c,
            None if self.tenant_id.is_some() && self.client_id.is_some() => {
                AzureCredentials::EntraId
            }
            None => AzureCredentials::SharedKey,
        }
    }
}

/// Secrets given in the environment; never serialized.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvSecrets {
    pub aws_secret_access_key: Option<Sensitive<String>>,
    pub azure_storage_account_key: Option<Sensitive<String>>,
    pub azure_storage_connection_string: Option<Sensitive<String>>,
    pub azure_storage_sas_token: Option<Sensitive<String>>,
    pub azure_client_secret: Option<Sensitive<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Settings {
    pub cloud: CloudSettings,
    pub aws: AwsSettings,
    pub azure: AzureSettings,
    // --- backup schedule and monitoring ---
    pub schedule: ScheduleSettings,
    #[serde(skip)]
    #[cfg_attr(feature = "specta", specta(skip))]
    pub env_secrets: EnvSecrets,
}

/// When the daily backup is due: `check` reports BACKUP_MISSING when today's backup does not
/// exist by `due_by_hour_utc` o'clock (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ScheduleSettings {
    /// Hour of the day (UTC, 0–23) by which today's backup must exist. Default 6.
    pub due_by_hour_utc: u8,
    /// Hour of the day (UTC, 0–23) at which the app (or the system scheduler) runs the daily
    /// backup. Default 1, well before `due_by_hour_utc`.
    pub backup_hour_utc: u8,
    /// Whether the desktop app runs the daily backup while it is open. Off when a system
    /// scheduler (cron, a systemd timer) runs `strongroom backup create` instead.
    pub in_app: bool,
}

impl Default for ScheduleSettings {
    fn default() -> Self {
        Self {
            due_by_hour_utc: 6,
            backup_hour_utc: 1,
            in_app: true,
        }
    }
}

fn config_err(message: String) -> Error {
    Error::Config { message }
}

/// Names people might try to put in the file that belong in the keyring.
const SECRET_KEYS: [&str; 10] = [
    "secret_access_key",
    "aws_secret_access_key",
    "account_key",
    "azure_storage_account_key",
    "connection_string",
    "azure_storage_connection_string",
    "sas_token",
    "azure_storage_sas_token",
    "client_secret",
    "azure_client_secret",
];

impl Settings {
    /// The settings of `home`: the file (defaults when it is absent) with the process
    /// environment applied over it.
    pub fn load(home: &Home) -> Result<Self> {
        Self::load_with_env(home, &|name| std::env::var(name).ok())
    }

    /// As [`Settings::load`], with the environment given as a lookup (tests).
    pub fn load_with_env(home: &Home, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let path = home.settings();
        let mut s = match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text, &path)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Settings::default(),
            Err(e) => return Err(Error::io("read", &path, e)),
        };
        s.apply_env(env)?;
        s.validate()?;
        Ok(s)
    }

    /// Parses the text of a settings file; errors name the file and the line.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        toml::from_str::<Settings>(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let mut msg = e.message().trim().to_string();
            if let Some(secret) = SECRET_KEYS.iter().find(|k| msg.contains(&format!("`{k}`"))) {
                msg = format!(
                    "`{secret}` is a secret and is never kept in the settings file; enter it in Settings (the OS keyring) or set it in the environment"
                );
            }
            match line {
                Some(l) => config_err(format!("{} line {l}: {msg}", path.display())),
                None => config_err(format!("{}: {msg}", path.display())),
            }
        })
    }

    /// Writes the settings file (no secret is ever in it), atomically.
    pub fn save(&self, home: &Home) -> Result<()> {
        use std::io::Write;
        let path = home.settings();
        let text = toml::to_string_pretty(self).map_err(|e| Error::Internal(e.to_string()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| Error::io("created", dir, e))?;
        let mut tmp =
            tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io("created", dir, e))?;
        tmp.write_all(text.as_bytes())
            .and_then(|_| tmp.as_file().sync_all())
            .map_err(|e| Error::io("written", tmp.path(), e))?;
        tmp.persist(&path)
            .map_err(|e| Error::io("written", &path, e.error))?;
        Ok(())
    }

    /// Applies the environment variables of shared/CLI.md over the file's values.
    pub fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<()> {
        let get = |name: &str| {
            env(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        if let Some(v) = get("BACKUP_CLOUD_STORAGE_ENABLED") {
            self.cloud.enabled = match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => true,
                "false" | "0" | "no" | "off" => false,
                _ => {
                    return Err(config_err(format!(
                        "BACKUP_CLOUD_STORAGE_ENABLED is {v:?}; use true or false"
                    )))
                }
            };
        }
        if let Some(v) = get("BACKUP_CLOUD_PROVIDER") {
            self.cloud.provider = v.parse().map_err(|_| {
                config_err(format!(
                    "BACKUP_CLOUD_PROVIDER is {v:?}; use aws, azure or none"
                ))
            })?;
        }
        if let Some(v) = get("BACKUP_RETENTION_DAYS") {
            self.cloud.retention_days = v.parse().map_err(|_| {
                config_err(format!(
                    "BACKUP_RETENTION_DAYS is {v:?}; use a whole number of days"
                ))
            })?;
        }
        let set = |slot: &mut Option<String>, name: &str| {
            if let Some(v) = get(name) {
                *slot = Some(v);
            }
        };
        set(&mut self.aws.region, "AWS_REGION");
        set(&mut self.aws.endpoint_url, "AWS_ENDPOINT_URL");
        set(&mut self.aws.backup_bucket, "AWS_S3_BACKUP_BUCKET");
        set(&mut self.aws.documents_bucket, "AWS_S3_DOCUMENTS_BUCKET");
        set(&mut self.aws.access_key_id, "AWS_ACCESS_KEY_ID");
        set(&mut self.aws.profile, "AWS_PROFILE");
        set(&mut self.azure.tenant_id, "AZURE_TENANT_ID");
        set(&mut self.azure.client_id, "AZURE_CLIENT_ID");
        set(&mut self.azure.account_name, "AZURE_STORAGE_ACCOUNT_NAME");
        set(&mut self.azure.blob_endpoint, "AZURE_STORAGE_BLOB_ENDPOINT");
        set(&mut self.azure.backup_container, "AZURE_BACKUP_CONTAINER");
        set(
            &mut self.azure.documents_container,
            "AZURE_DOCUMENTS_CONTAINER",
        );
        let secret = |name: &str| get(name).map(Sensitive::new);
        self.env_secrets = EnvSecrets {
            aws_secret_access_key: secret("AWS_SECRET_ACCESS_KEY"),
            azure_storage_account_key: secret("AZURE_STORAGE_ACCOUNT_KEY"),
            azure_storage_connection_string: secret("AZURE_STORAGE_CONNECTION_STRING"),
            azure_storage_sas_token: secret("AZURE_STORAGE_SAS_TOKEN"),
            azure_client_secret: secret("AZURE_CLIENT_SECRET"),
        };
        Ok(())
    }

    /// The provider in use: `None` unless cloud storage is enabled.
    pub fn effective_provider(&self) -> CloudProvider {
        if self.cloud.enabled {
            self.cloud.provider
        } else {
            CloudProvider::None
        }
    }

    /// Checks what can be checked without the network.
    pub fn validate(&self) -> Result<()> {
        // An endpoint error names the setting (and its variable), so the officer knows which
        // line of the file, or which variable, to fix.
        for (setting, var, ep) in [
            (
                "aws.endpoint_url",
                "AWS_ENDPOINT_URL",
                &self.aws.endpoint_url,
            ),
            (
                "azure.blob_endpoint",
                "AZURE_STORAGE_BLOB_ENDPOINT",
                &self.azure.blob_endpoint,
            ),
        ] {
            let Some(ep) = ep else { continue };
            crate::storage::check_endpoint(ep).map_err(|e| match e {
                Error::InsecureEndpoint { endpoint } => Error::InsecureEndpoint {
                    endpoint: format!("{endpoint} (the setting {setting} or {var})"),
                },
                Error::Config { message } => config_err(format!("{setting} (or {var}): {message}")),
                other => other,
            })?;
        }
        if let Some(sse) = &self.aws.sse {
            if sse != "AES256" && sse != "aws:kms" {
                return Err(config_err(format!(
                    "aws.sse is {sse:?}; use \"AES256\" or \"aws:kms\""
                )));
            }
        }
        for (name, hour) in [
            ("schedule.due_by_hour_utc", self.schedule.due_by_hour_utc),
            ("schedule.backup_hour_utc", self.schedule.backup_hour_utc),
        ] {
            if hour > 23 {
                return Err(config_err(format!(
                    "{name} is {hour}; give an hour of the day from 0 to 23 (UTC)"
                )));
            }
        }
        if self.cloud.retention_days == 0 {
            return Err(config_err("cloud.retention_days must be at least 1".into()));
        }
        match self.effective_provider() {
            CloudProvider::None => {}
            CloudProvider::Aws => {
                if self.aws.backup_bucket.is_none() || self.aws.documents_bucket.is_none() {
                    return Err(config_err(
                        "cloud storage is AWS but AWS_S3_BACKUP_BUCKET / AWS_S3_DOCUMENTS_BUCKET (aws.backup_bucket, aws.documents_bucket) are not set".into(),
                    ));
                }
            }
            CloudProvider::Azure => {
                if self.azure.backup_container.is_none() || self.azure.documents_container.is_none()
                {
                    return Err(config_err(
                        "cloud storage is Azure but AZURE_BACKUP_CONTAINER / AZURE_DOCUMENTS_CONTAINER (azure.backup_container, azure.documents_container) are not set".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// A secret by its keyring name (see [`secret_names`]): from the environment when given
    /// there, else from the station's keyring, else `None`.
    pub fn secret(&self, keyring: &Keyring, name: &str) -> Result<Option<Sensitive<String>>> {
        let from_env = match name {
            secret_names::AWS_SECRET_ACCESS_KEY => &self.env_secrets.aws_secret_access_key,
            secret_names::AZURE_STORAGE_ACCOUNT_KEY => &self.env_secrets.azure_storage_account_key,
            secret_names::AZURE_STORAGE_CONNECTION_STRING => {
                &self.env_secrets.azure_storage_connection_string
            }
            secret_names::AZURE_STORAGE_SAS_TOKEN => &self.env_secrets.azure_storage_sas_token,
            secret_names::AZURE_CLIENT_SECRET => &self.env_secrets.azure_client_secret,
            _ => &None,
        };
        if let Some(v) = from_env {
            return Ok(Some(v.clone()));
        }
        keyring.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    fn home_with(text: Option<&str>) -> (tempfile::TempDir, Home) {
        let t = tempfile::tempdir().unwrap();
        let home = Home::at(t.path());
        if let Some(text) = text {
            std::fs::write(home.settings(), text).unwrap();
        }
        (t, home)
    }

    #[test]
    fn a_named_aws_profile_means_the_standard_chain_unless_a_key_is_given() {
        let (_t, home) = home_with(None);
        let s = Settings::load_with_env(&home, &env(&[("AWS_PROFILE", "records")])).unwrap();
        assert_eq!(s.aws.profile.as_deref(), Some("records"));
        assert_eq!(s.aws.credential_source(), AwsCredentials::Chain);
        let s = Settings::load_with_env(
            &home,
            &env(&[("AWS_PROFILE", "records"), ("AWS_ACCESS_KEY_ID", "AKID")]),
        )
        .unwrap();
        assert_eq!(s.aws.credential_source(), AwsCredentials::Keys);
        let (_t, home) = home_with(Some("[aws]\ncredentials = \"chain\"\n"));
        let s = Settings::load_with_env(&home, &env(&[])).unwrap();
        assert_eq!(s.aws.credential_source(), AwsCredentials::Chain);
        let (_t, home) = home_with(Some("[aws]\ncredentials = \"sso\"\n"));
        let e = Settings::load_with_env(&home, &env(&[])).unwrap_err();
        assert_eq!(e.code(), "config_invalid");
        assert!(e.to_string().contains("line 2"), "{e}");
    }

    #[test]
    fn a_client_secret_in_the_settings_file_is_refused_as_a_secret() {
        let (_t, home) = home_with(Some("[azure]\nclient_secret = \"x\"\n"));
        let e = Settings::load_with_env(&home, &env(&[])).unwrap_err();
        assert!(
            e.to_string().contains("never kept in the settings file"),
            "{e}"
        );
    }

    #[test]
    fn defaults_without_a_file() {
        let (_t, home) = home_with(None);
        let s = Settings::load_with_env(&home, &env(&[])).unwrap();
        assert_eq!(s.cloud.retention_days, 30);
        assert_eq!(s.effective_provider(), CloudProvider::None);
    }

    #[test]
    fn environment_overrides_the_file() {
        let (_t, home) = home_with(Some(
            "[cloud]\nenabled = false\nprovider = \"azure\"\n[aws]\nregion = \"eu-west-1\"\nbackup_bucket = \"from-file\"\n",
        ));
        let s = Settings::load_with_env(
            &home,
            &env(&[
                ("BACKUP_CLOUD_STORAGE_ENABLED", "true"),
                ("BACKUP_CLOUD_PROVIDER", "aws"),
                ("AWS_S3_BACKUP_BUCKET", "from-env"),
                ("AWS_S3_DOCUMENTS_BUCKET", "docs"),
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:9000"),
                ("AWS_SECRET_ACCESS_KEY", "canary-secret-9"),
            ]),
        )
        .unwrap();
        assert_eq!(s.effective_provider(), CloudProvider::Aws);
        assert_eq!(s.aws.backup_bucket.as_deref(), Some("from-env"));
        assert_eq!(s.aws.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            s.env_secrets
                .aws_secret_access_key
                .as_ref()
                .unwrap()
                .expose(),
            "canary-secret-9"
        );
        assert!(!format!("{s:?}").contains("canary"));
        // Saving never writes the secret.
        s.save(&home).unwrap();
        let text = std::fs::read_to_string(home.settings()).unwrap();
        assert!(!text.contains("canary"));
        assert!(text.contains("from-env"));
    }

    #[test]
    fn file_errors_name_the_line() {
        let cases = [
            ("[cloud]\nenabled = true\nretention_days = \"thirty\"\n", 3),
            ("[cloud]\n\nbogus = 1\n", 3),
            ("[aws]\nregion = \"x\"\nregion = = 2\n", 3),
            ("[aws]\nsecret_access_key = \"s3cr3t\"\n", 2),
        ];
        for (text, line) in cases {
            let (_t, home) = home_with(Some(text));
            let e = Settings::load_with_env(&home, &env(&[])).unwrap_err();
            assert_eq!(e.code(), "config_invalid");
            let msg = e.to_string();
            assert!(msg.contains(&format!("line {line}")), "{msg}");
            assert!(!msg.contains("s3cr3t"), "{msg}");
        }
        let (_t, home) = home_with(Some("[aws]\nsecret_access_key = \"x\"\n"));
        let msg = Settings::load_with_env(&home, &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("never kept in the settings file"), "{msg}");
    }

    #[test]
    fn bad_environment_values_are_named() {
        let (_t, home) = home_with(None);
        let e =
            Settings::load_with_env(&home, &env(&[("BACKUP_CLOUD_PROVIDER", "gcp")])).unwrap_err();
        assert!(e.to_string().contains("BACKUP_CLOUD_PROVIDER"));
        let e = Settings::load_with_env(&home, &env(&[("BACKUP_CLOUD_STORAGE_ENABLED", "maybe")]))
            .unwrap_err();
        assert!(e.to_string().contains("BACKUP_CLOUD_STORAGE_ENABLED"));
    }

    #[test]
    fn plain_http_endpoints_are_refused_unless_loopback() {
        let (_t, home) = home_with(None);
        let e = Settings::load_with_env(
            &home,
            &env(&[("AWS_ENDPOINT_URL", "http://s3.example.org")]),
        )
        .unwrap_err();
        assert_eq!(e.code(), "insecure_endpoint");
        let e = Settings::load_with_env(
            &home,
            &env(&[(
                "AZURE_STORAGE_BLOB_ENDPOINT",
                "http://192.168.1.4:10000/acct",
            )]),
        )
        .unwrap_err();
        assert_eq!(e.code(), "insecure_endpoint");
        assert!(Settings::load_with_env(
            &home,
            &env(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:9")])
        )
        .is_ok());
    }

    #[test]
    fn cloud_without_buckets_is_refused() {
        let (_t, home) = home_with(None);
        let e = Settings::load_with_env(
            &home,
            &env(&[
                ("BACKUP_CLOUD_STORAGE_ENABLED", "true"),
                ("BACKUP_CLOUD_PROVIDER", "azure"),
            ]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("AZURE_BACKUP_CONTAINER"));
    }
}

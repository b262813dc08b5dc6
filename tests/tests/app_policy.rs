//! The desktop app's security policy, read from `src-tauri/tauri.conf.json` and
//! `src-tauri/capabilities/*.json`: the Content Security Policy allows only the app's own
//! origin (no inline or eval'd script, no remote origin, no plugins, no framing), and the
//! window's permissions are all on the allow-list below. A new permission or CSP source is a
//! conscious decision: add it here, with its reason, in the same change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Every permission the app's windows may hold, and why. Extend this when the app needs more
/// (e.g. a `core:webview:allow-…` or a dialog permission), with the reason beside it.
const ALLOWED_PERMISSIONS: &[(&str, &str)] = &[(
    "core:event:default",
    "progress and app-wide events from the Rust side (listen/unlisten)",
)];

/// Permission prefixes that are never allowed: file system, shell, HTTP and other plugins that
/// would let the web view reach past the app's own commands.
const FORBIDDEN_PERMISSION_PREFIXES: &[&str] = &[
    "fs:",
    "shell:",
    "http:",
    "process:",
    "opener:",
    "updater:",
    "websocket:",
    "upload:",
    "sql:",
    "store:",
    "persisted-scope:",
];

/// CSP sources allowed in any directive: the app's own origin, `none`, inline data images,
/// and Tauri's IPC channel (the `ipc:` scheme and its Linux/Windows form `http://ipc.localhost`,
/// which stays in the process).
const ALLOWED_CSP_SOURCES: &[&str] = &["'self'", "'none'", "data:", "ipc:", "http://ipc.localhost"];

/// Sources allowed only in some directives.
const ALLOWED_CSP_SOURCES_BY_DIRECTIVE: &[(&str, &[&str])] = &[
    ("img-src", &["'self'", "data:"]),
    ("connect-src", &["'self'", "ipc:", "http://ipc.localhost"]),
];

/// Directives that must be present with exactly this value.
const REQUIRED_CSP: &[(&str, &str)] = &[
    ("default-src", "'self'"),
    ("object-src", "'none'"),
    ("frame-ancestors", "'none'"),
    ("base-uri", "'none'"),
];

fn src_tauri() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("src-tauri")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn conf() -> Value {
    read_json(&src_tauri().join("tauri.conf.json"))
}

/// A CSP from the config: a string, or an object of directive → string or list.
fn parse_csp(v: &Value) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    match v {
        Value::String(s) => {
            for d in s.split(';').map(str::trim).filter(|d| !d.is_empty()) {
                let mut parts = d.split_whitespace();
                let name = parts.next().unwrap().to_ascii_lowercase();
                let prev = out.insert(name.clone(), parts.map(str::to_string).collect());
                assert!(prev.is_none(), "directive {name} appears twice");
            }
        }
        Value::Object(m) => {
            for (k, v) in m {
                let sources = match v {
                    Value::String(s) => s.split_whitespace().map(str::to_string).collect(),
                    Value::Array(a) => a
                        .iter()
                        .map(|x| x.as_str().expect("a CSP source is text").to_string())
                        .collect(),
                    other => panic!("CSP directive {k} is {other}"),
                };
                out.insert(k.to_ascii_lowercase(), sources);
            }
        }
        other => panic!("the CSP must be set, as text or an object; it is {other}"),
    }
    out
}

/// What is wrong with a CSP, one line per problem (empty: it is acceptable).
fn csp_problems(csp: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, want) in REQUIRED_CSP {
        match csp.get(*name) {
            Some(v) if v.len() == 1 && v[0] == *want => {}
            other => problems.push(format!("{name} must be {want}, is {other:?}")),
        }
    }
    for (name, sources) in csp {
        if sources.is_empty() {
            problems.push(format!("{name} has no source"));
        }
        let allowed: &[&str] = ALLOWED_CSP_SOURCES_BY_DIRECTIVE
            .iter()
            .find(|(d, _)| d == name)
            .map(|(_, s)| *s)
            .unwrap_or(&["'self'", "'none'"]);
        for s in sources {
            let lower = s.to_ascii_lowercase();
            if lower.contains("unsafe-") {
                problems.push(format!("{name} allows {s}"));
            } else if lower.starts_with("'nonce-") || lower.starts_with("'sha") {
                problems.push(format!("{name} allows inline code by {s}"));
            } else if !ALLOWED_CSP_SOURCES.contains(&lower.as_str()) {
                problems.push(format!(
                    "{name} allows the source {s}, which is not allowed"
                ));
            } else if !allowed.contains(&lower.as_str()) {
                problems.push(format!("{name} may not use {s}"));
            }
        }
    }
    problems
}

#[test]
fn the_csp_allows_only_the_app_itself() {
    let conf = conf();
    let security = &conf["app"]["security"];
    let csp = parse_csp(&security["csp"]);
    let problems = csp_problems(&csp);
    assert!(
        problems.is_empty(),
        "the CSP is too open:\n{}",
        problems.join("\n")
    );
    // Scripts and styles have a directive of their own or fall back to default-src 'self'.
    for d in ["script-src", "style-src"] {
        if let Some(v) = csp.get(d) {
            assert_eq!(v, &["'self'"], "{d}");
        }
    }
    // A development CSP, when there is one, obeys the same rules.
    if !security["devCsp"].is_null() {
        let dev = parse_csp(&security["devCsp"]);
        let problems = csp_problems(&dev);
        assert!(problems.is_empty(), "devCsp:\n{}", problems.join("\n"));
    }
    // Tauri must not be told to leave its CSP protections out.
    assert!(
        security["dangerousDisableAssetCspModification"].is_null()
            || security["dangerousDisableAssetCspModification"] == false,
        "{security}"
    );
    assert_ne!(security["freezePrototype"], false, "{security}");
    // No asset protocol opened onto the disk, no remote pages.
    assert_ne!(security["assetProtocol"]["enable"], true, "{security}");
    assert!(
        conf["build"]["devUrl"]
            .as_str()
            .is_none_or(|u| u.starts_with("http://localhost") || u.starts_with("http://127.0.0.1")),
        "{}",
        conf["build"]
    );
    for w in conf["app"]["windows"].as_array().into_iter().flatten() {
        assert!(
            w["url"].as_str().is_none_or(|u| !u.contains("://")),
            "remote window: {w}"
        );
    }
    assert_ne!(
        conf["app"]["withGlobalTauri"], true,
        "no global __TAURI__ for any script"
    );
}

#[test]
fn the_csp_check_refuses_what_it_must() {
    // The check itself: each of these must be found wanting.
    let good = "default-src 'self'; script-src 'self'; img-src 'self' data:; connect-src ipc: http://ipc.localhost; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
    assert!(csp_problems(&parse_csp(&Value::from(good))).is_empty());
    for (bad, why) in [
        (
            good.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'"),
            "unsafe-inline",
        ),
        (
            good.replace("script-src 'self'", "script-src 'self' 'unsafe-eval'"),
            "unsafe-eval",
        ),
        (
            good.replace(
                "script-src 'self'",
                "script-src 'self' https://cdn.example.org",
            ),
            "remote",
        ),
        (
            good.replace("connect-src ipc:", "connect-src ipc: https:"),
            "a scheme",
        ),
        (
            good.replace("img-src 'self' data:", "img-src *"),
            "wildcard",
        ),
        (good.replace("object-src 'none'; ", ""), "no object-src"),
        (
            good.replace("frame-ancestors 'none'", "frame-ancestors 'self'"),
            "framing",
        ),
        (
            good.replace("default-src 'self'", "default-src 'self' data:"),
            "data: by default",
        ),
        (
            good.replace("script-src 'self'", "script-src 'self' 'sha256-abc='"),
            "hash",
        ),
    ] {
        assert!(
            !csp_problems(&parse_csp(&Value::from(bad.as_str()))).is_empty(),
            "{why}: {bad}"
        );
    }
}

/// The permission identifiers of a capability (a string, or an object with `identifier`).
fn permission_ids(cap: &Value) -> Vec<String> {
    cap["permissions"]
        .as_array()
        .unwrap_or_else(|| panic!("a capability lists its permissions: {cap}"))
        .iter()
        .map(|p| match p {
            Value::String(s) => s.clone(),
            Value::Object(o) => o["identifier"].as_str().expect("identifier").to_string(),
            other => panic!("a permission is {other}"),
        })
        .collect()
}

fn permission_problems(id: &str) -> Option<String> {
    if FORBIDDEN_PERMISSION_PREFIXES
        .iter()
        .any(|p| id.starts_with(p))
    {
        return Some(format!("{id} is a forbidden plugin permission"));
    }
    if !ALLOWED_PERMISSIONS.iter().any(|(a, _)| *a == id) {
        return Some(format!(
            "{id} is not on ALLOWED_PERMISSIONS in tests/tests/app_policy.rs"
        ));
    }
    None
}

#[test]
fn every_capability_grants_only_allowed_permissions_to_local_windows() {
    let dir = src_tauri().join("capabilities");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let mut caps: Vec<(String, Value)> = Vec::new();
    for f in &files {
        match f.extension().and_then(|e| e.to_str()) {
            Some("json") => caps.push((f.display().to_string(), read_json(f))),
            // A capability in another format would escape this check.
            other => assert!(
                f.is_dir() || other.is_none_or(|e| !matches!(e, "toml" | "json5")),
                "{} is a capability this test cannot read",
                f.display()
            ),
        }
    }
    // Inline capabilities in the config are checked the same way.
    for c in conf()["app"]["security"]["capabilities"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if c.is_object() {
            caps.push(("tauri.conf.json".into(), c.clone()));
        }
    }
    assert!(!caps.is_empty(), "no capability found in {}", dir.display());
    let mut problems = Vec::new();
    for (file, cap) in &caps {
        for id in permission_ids(cap) {
            if let Some(p) = permission_problems(&id) {
                problems.push(format!("{file}: {p}"));
            }
        }
        // Only local windows: no remote URLs may use the app's commands.
        if !cap["remote"].is_null() {
            problems.push(format!("{file}: grants to remote URLs: {}", cap["remote"]));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_permission_check_refuses_what_it_must() {
    assert!(permission_problems("core:event:default").is_none());
    for bad in [
        "fs:default",
        "fs:allow-read-file",
        "shell:allow-execute",
        "http:default",
        "core:default",
        "core:webview:allow-create-webview-window",
        "dialog:default",
    ] {
        assert!(permission_problems(bad).is_some(), "{bad}");
    }
}

#[test]
fn no_file_system_shell_or_http_plugin_is_linked_into_the_app() {
    let manifest = std::fs::read_to_string(src_tauri().join("Cargo.toml")).unwrap();
    for plugin in [
        "tauri-plugin-fs",
        "tauri-plugin-shell",
        "tauri-plugin-http",
        "tauri-plugin-process",
        "tauri-plugin-updater",
    ] {
        assert!(
            !manifest.contains(plugin),
            "src-tauri/Cargo.toml depends on {plugin}"
        );
    }
}

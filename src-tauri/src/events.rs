//! App-wide events (typed, in ui/src/bindings.ts as `events.*`): things that happen without the
//! window asking — a drop of files, a scheduled backup finishing, an alert from `check`.

use serde::{Deserialize, Serialize};
use specta::Type;
use tauri_specta::Event;

/// Files the officer dropped on the window (they are now uploadable).
#[derive(Debug, Clone, Serialize, Deserialize, Type, Event)]
pub struct FilesDropped {
    pub paths: Vec<String>,
}

/// A backup the app's scheduler ran has ended.
#[derive(Debug, Clone, Serialize, Deserialize, Type, Event)]
pub struct ScheduledBackup {
    pub ok: bool,
    /// The backup id when it succeeded.
    pub id: Option<String>,
    /// `{code}: message` when it failed.
    pub error: Option<String>,
}

/// `check` found something the officer must see (a CRITICAL or WARNING finding).
#[derive(Debug, Clone, Serialize, Deserialize, Type, Event)]
pub struct HealthAlert {
    pub severity: String,
    pub code: String,
    pub message: String,
}

//! `strongroom case add|list|show|status|delete`: the case registry.

use std::process::ExitCode;

use clap::Subcommand;
use strongroom_core::audit::Actor;
use strongroom_core::paths::Home;
use strongroom_core::registry::cases::{self, Case, CaseChanges, CaseDetail, CaseFilter, NewCase};
use strongroom_core::validate::CaseStatus;
use strongroom_core::Result;

use super::registry::{actor, open};
use crate::output::Output;

#[derive(Subcommand, Debug)]
pub enum CaseCommand {
    /// Adds a case (validated; prints the case).
    Add {
        /// The case number, e.g. 2026-000123.
        #[arg(long)]
        number: String,
        #[arg(long)]
        title: String,
        /// The officer in charge.
        #[arg(long)]
        officer: Option<String>,
        #[arg(long)]
        badge: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
        /// open, under_investigation, closed or archived (default open).
        #[arg(long)]
        status: Option<String>,
    },
    /// Lists cases, most recently changed first.
    List {
        /// Only cases with this status.
        #[arg(long)]
        status: Option<String>,
        /// Full-text search in number, title and description.
        #[arg(long)]
        search: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
    /// Shows a case with its documents and legal holds.
    Show { number: String },
    /// Changes a case's title, description, officer or badge (an empty value clears the
    /// officer or badge).
    Edit {
        number: String,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        officer: Option<String>,
        #[arg(long)]
        badge: Option<String>,
    },
    /// Moves a case along open → under_investigation → closed → archived (reopening needs --reason).
    Status {
        number: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Deletes a case that has no documents and no legal hold.
    Delete {
        number: String,
        #[arg(long)]
        reason: String,
    },
}

fn status(s: Option<&str>) -> Result<Option<CaseStatus>> {
    s.map(CaseStatus::parse).transpose()
}

fn one_line(c: &Case) -> String {
    format!(
        "{:<14} {:<20} {}{}",
        c.number,
        c.status.as_str(),
        c.title,
        if c.held { "  [HELD]" } else { "" }
    )
}

fn describe(d: &CaseDetail) -> String {
    let c = &d.case;
    let mut s = format!(
        "case {}\ntitle:       {}\nstatus:      {}\nofficer:     {}\nbadge:       {}\ncreated:     {} by {}\nupdated:     {}\nlegal hold:  {}\n",
        c.number,
        c.title,
        c.status,
        c.officer.as_deref().unwrap_or("-"),
        c.badge.as_deref().unwrap_or("-"),
        c.created_at,
        c.created_by,
        c.updated_at,
        if c.held { "yes" } else { "no" },
    );
    if !c.description.is_empty() {
        s.push_str(&format!("description:\n{}\n", c.description));
    }
    s.push_str(&format!("documents:   {}", d.documents.len()));
    for doc in &d.documents {
        s.push_str(&format!(
            "\n  #{:<6} {:>12} B  {}  {}",
            doc.id,
            doc.size,
            doc.sha256,
            // Escaped like `doc add` prints it: a name cannot reorder or forge terminal text.
            doc.name.escape_debug()
        ));
    }
    s
}

pub fn run(home: &Home, out: &Output, cmd: CaseCommand) -> Result<ExitCode> {
    match cmd {
        CaseCommand::Add {
            number,
            title,
            officer,
            badge,
            description,
            status: st,
        } => {
            let new = NewCase {
                number,
                title,
                description,
                officer,
                badge,
                status: status(st.as_deref())?,
            };
            let actor: Actor = actor(home)?;
            let mut reg = open(home)?;
            let case = reg.write(|tx| cases::create(tx, &new, &actor))?;
            out.result(&case, || format!("added case {}", one_line(&case)));
        }
        CaseCommand::List {
            status: st,
            search,
            limit,
            offset,
        } => {
            let filter = CaseFilter {
                status: status(st.as_deref())?,
                query: search,
                held: None,
                limit,
                offset,
            };
            let reg = open(home)?;
            let list = cases::list(&reg.db(), &filter)?;
            out.result(&list, || {
                if list.is_empty() {
                    "no cases".to_string()
                } else {
                    list.iter().map(one_line).collect::<Vec<_>>().join("\n")
                }
            });
        }
        CaseCommand::Show { number } => {
            let reg = open(home)?;
            let detail = cases::detail(&reg.db(), number.trim())?;
            out.result(&detail, || describe(&detail));
        }
        CaseCommand::Edit {
            number,
            title,
            description,
            officer,
            badge,
        } => {
            let changes = CaseChanges {
                title,
                description,
                officer: officer.map(|o| Some(o).filter(|o| !o.trim().is_empty())),
                badge: badge.map(|b| Some(b).filter(|b| !b.trim().is_empty())),
            };
            let actor = actor(home)?;
            let mut reg = open(home)?;
            let case = reg.write(|tx| cases::update(tx, number.trim(), &changes, &actor))?;
            out.result(&case, || format!("case {}", one_line(&case)));
        }
        CaseCommand::Status { number, to, reason } => {
            let to = CaseStatus::parse(&to)?;
            let actor = actor(home)?;
            let mut reg = open(home)?;
            let case = reg
                .write(|tx| cases::set_status(tx, number.trim(), to, reason.as_deref(), &actor))?;
            out.result(&case, || format!("case {}", one_line(&case)));
        }
        CaseCommand::Delete { number, reason } => {
            let actor = actor(home)?;
            let mut reg = open(home)?;
            reg.write(|tx| cases::delete(tx, number.trim(), &reason, &actor))?;
            out.result(&serde_json::json!({ "deleted": number.trim() }), || {
                format!("deleted case {}", number.trim())
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}

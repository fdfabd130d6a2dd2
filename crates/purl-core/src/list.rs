//! Requirement lists: a period with versions; a version is draft → submitted → approved →
//! superseded, approved only once requester, coordinator and supplier signed that exact version.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ids::{ItemCode, Period, Text};
use crate::participant::Party;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListStatus {
    Draft,
    Submitted,
    Approved,
    Superseded,
}

impl ListStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ListStatus::Draft => "draft",
            ListStatus::Submitted => "submitted",
            ListStatus::Approved => "approved",
            ListStatus::Superseded => "superseded",
        }
    }

    /// The status after `step`, or `None` when the step is not allowed from this status.
    pub fn after(self, step: ListStep) -> Option<ListStatus> {
        match (self, step) {
            (ListStatus::Draft, ListStep::Submit) => Some(ListStatus::Submitted),
            (ListStatus::Submitted, ListStep::Return) => Some(ListStatus::Draft),
            (ListStatus::Submitted, ListStep::Approve) => Some(ListStatus::Approved),
            (ListStatus::Approved, ListStep::Supersede) => Some(ListStatus::Superseded),
            (
                ListStatus::Draft
                | ListStatus::Submitted
                | ListStatus::Approved
                | ListStatus::Superseded,
                ListStep::Submit | ListStep::Return | ListStep::Approve | ListStep::Supersede,
            ) => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStep {
    Submit,
    Return,
    Approve,
    Supersede,
}

/// The parties whose sign-off makes a version approved.
pub const APPROVING_PARTIES: [Party; 3] = [Party::Requester, Party::Coordinator, Party::Supplier];

/// One requirement. Its rank is its position in the version (1 = most urgent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// Stable across versions, so two versions can be compared line by line (`L0007`).
    pub id: String,
    pub item: ItemCode,
    pub quantity: u64,
    pub needed_by: NaiveDate,
    pub justification: Text,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListVersion {
    pub number: u32,
    pub status: ListStatus,
    pub lines: Vec<Line>,
    pub approvals: BTreeSet<Party>,
    pub based_on: Option<u32>,
}

impl ListVersion {
    pub fn rank_of(&self, line_id: &str) -> Option<u32> {
        let index = self.lines.iter().position(|line| line.id == line_id)?;
        Some(u32::try_from(index).expect("list lines are bounded by LIST_LINES_MAX") + 1)
    }

    pub fn line(&self, line_id: &str) -> Option<&Line> {
        self.lines.iter().find(|line| line.id == line_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementList {
    pub period: Period,
    pub versions: Vec<ListVersion>,
    pub next_line_number: u32,
    pub version: u64,
}

impl RequirementList {
    pub fn get_version(&self, number: u32) -> Option<&ListVersion> {
        self.versions.iter().find(|v| v.number == number)
    }

    pub fn latest(&self) -> &ListVersion {
        self.versions
            .last()
            .expect("a list is created with its first version")
    }

    pub fn approved(&self) -> Option<&ListVersion> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.status == ListStatus::Approved)
    }

    /// The version that may still change (draft or submitted), if any.
    pub fn open_version(&self) -> Option<&ListVersion> {
        self.versions
            .iter()
            .rev()
            .find(|v| matches!(v.status, ListStatus::Draft | ListStatus::Submitted))
    }
}

/// How one line differs between two versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum LineChange {
    Added {
        line_id: String,
        item: ItemCode,
        rank: u32,
        quantity: u64,
    },
    Removed {
        line_id: String,
        item: ItemCode,
        rank: u32,
        quantity: u64,
    },
    Changed {
        line_id: String,
        item: ItemCode,
        fields: Vec<FieldChange>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: &'static str,
    pub from: String,
    pub to: String,
}

/// Line-by-line differences from `from` to `to`, in the rank order of `to` then removals.
pub fn diff(from: &ListVersion, to: &ListVersion) -> Vec<LineChange> {
    let mut changes = Vec::new();
    for (index, line) in to.lines.iter().enumerate() {
        let rank = u32::try_from(index).expect("bounded by LIST_LINES_MAX") + 1;
        let Some(before) = from.line(&line.id) else {
            changes.push(LineChange::Added {
                line_id: line.id.clone(),
                item: line.item.clone(),
                rank,
                quantity: line.quantity,
            });
            continue;
        };
        let before_rank = from.rank_of(&line.id).expect("line found above");
        let fields = field_changes(before, before_rank, line, rank);
        if !fields.is_empty() {
            changes.push(LineChange::Changed {
                line_id: line.id.clone(),
                item: line.item.clone(),
                fields,
            });
        }
    }
    for (index, line) in from.lines.iter().enumerate() {
        if to.line(&line.id).is_none() {
            changes.push(LineChange::Removed {
                line_id: line.id.clone(),
                item: line.item.clone(),
                rank: u32::try_from(index).expect("bounded by LIST_LINES_MAX") + 1,
                quantity: line.quantity,
            });
        }
    }
    changes
}

fn field_changes(
    before: &Line,
    before_rank: u32,
    after: &Line,
    after_rank: u32,
) -> Vec<FieldChange> {
    let candidates = [
        ("rank", before_rank.to_string(), after_rank.to_string()),
        (
            "quantity",
            before.quantity.to_string(),
            after.quantity.to_string(),
        ),
        (
            "needed_by",
            before.needed_by.to_string(),
            after.needed_by.to_string(),
        ),
        (
            "justification",
            before.justification.as_str().to_owned(),
            after.justification.as_str().to_owned(),
        ),
    ];
    candidates
        .into_iter()
        .filter(|(_, from, to)| from != to)
        .map(|(field, from, to)| FieldChange { field, from, to })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEPS: [ListStep; 4] = [
        ListStep::Submit,
        ListStep::Return,
        ListStep::Approve,
        ListStep::Supersede,
    ];
    const STATUSES: [ListStatus; 4] = [
        ListStatus::Draft,
        ListStatus::Submitted,
        ListStatus::Approved,
        ListStatus::Superseded,
    ];

    #[test]
    fn every_list_transition_is_allowed_or_refused_as_designed() {
        let allowed = [
            (ListStatus::Draft, ListStep::Submit, ListStatus::Submitted),
            (ListStatus::Submitted, ListStep::Return, ListStatus::Draft),
            (
                ListStatus::Submitted,
                ListStep::Approve,
                ListStatus::Approved,
            ),
            (
                ListStatus::Approved,
                ListStep::Supersede,
                ListStatus::Superseded,
            ),
        ];
        for status in STATUSES {
            for step in STEPS {
                let expected = allowed
                    .iter()
                    .find(|(from, s, _)| *from == status && *s == step)
                    .map(|(_, _, to)| *to);
                assert_eq!(status.after(step), expected, "{status:?} + {step:?}");
            }
        }
    }

    fn line(id: &str, item: &str, quantity: u64) -> Line {
        Line {
            id: id.into(),
            item: ItemCode::parse(item).unwrap(),
            quantity,
            needed_by: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            justification: Text::default(),
        }
    }

    fn version(lines: Vec<Line>) -> ListVersion {
        ListVersion {
            number: 1,
            status: ListStatus::Draft,
            lines,
            approvals: BTreeSet::new(),
            based_on: None,
        }
    }

    #[test]
    fn diff_names_added_removed_reranked_and_requantified_lines() {
        let before = version(vec![
            line("L1", "PAC3", 10),
            line("L2", "SHELL", 100),
            line("L3", "DRONE", 5),
        ]);
        let after = version(vec![
            line("L2", "SHELL", 100),
            line("L1", "PAC3", 12),
            line("L4", "RADAR", 1),
        ]);
        let changes = serde_json::to_value(diff(&before, &after)).unwrap();
        let text = changes.to_string();
        assert!(text.contains(r#"{"change":"changed","fields":[{"field":"rank","from":"2","to":"1"}],"item":"SHELL","line_id":"L2"}"#), "{text}");
        assert!(text.contains(r#""from":"10","to":"12""#), "{text}");
        assert!(
            text.contains(
                r#"{"change":"added","item":"RADAR","line_id":"L4","quantity":1,"rank":3}"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"{"change":"removed","item":"DRONE","line_id":"L3","quantity":5,"rank":3}"#
            ),
            "{text}"
        );
    }
}

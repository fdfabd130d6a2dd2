//! Users, their roles, and who is acting.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::ids::{IdError, Name, ParticipantCode, Username};
use crate::participant::Party;

/// A role a user holds within its participant. Stored as its text name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Viewer,
    Editor,
    Approver,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Editor, Role::Approver, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    pub fn parse(input: &str) -> Result<Self, IdError> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str() == input.trim())
            .ok_or(IdError {
                what: "role",
                value: input.to_owned(),
                rule: "one of viewer, editor, approver, admin",
            })
    }

    /// Parses `editor;approver` or `editor,approver`.
    pub fn parse_set(input: &str) -> Result<BTreeSet<Role>, IdError> {
        input
            .split([',', ';'])
            .filter(|part| !part.trim().is_empty())
            .map(Role::parse)
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub username: Username,
    pub participant: ParticipantCode,
    pub name: Name,
    pub roles: BTreeSet<Role>,
    pub active: bool,
    pub version: u64,
}

/// Who performs a command: the installation operator (the CLI on the server's machine) or a
/// signed-in user of a participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Operator,
    User {
        username: Username,
        participant: ParticipantCode,
        party: Party,
        roles: BTreeSet<Role>,
    },
}

impl Actor {
    /// The actor as recorded in the ledger: `operator` or `user:NAME@PARTICIPANT`.
    pub fn ledger_name(&self) -> String {
        match self {
            Actor::Operator => "operator".to_owned(),
            Actor::User {
                username,
                participant,
                ..
            } => format!("user:{username}@{participant}"),
        }
    }
}

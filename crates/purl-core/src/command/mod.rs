//! Commands: what a party asks for. `decide` checks the actor's permission and the current state
//! and turns an accepted command into events; it never changes the state itself.

mod list;
mod money;
mod package;
mod reference;

use std::collections::BTreeSet;

use chrono::NaiveDate;

use crate::error::DomainError;
use crate::event::EventPayload;
use crate::fx::FxRate;
use crate::ids::{Category, ItemCode, Name, ParticipantCode, Period, Reference, Text, Username};
use crate::money::{Currency, Money};
use crate::package::PackageStatus;
use crate::participant::{Membership, Party};
use crate::pledge::{Earmark, PledgeStatus};
use crate::policy::{allows, Action};
use crate::state::{RecordKey, RecordKind, State};
use crate::user::{Actor, Role};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NewLine {
    pub item: ItemCode,
    pub quantity: u64,
    pub needed_by: NaiveDate,
    pub justification: Text,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NewPledge {
    pub reference: Reference,
    pub contributors: Vec<ParticipantCode>,
    pub amount: Option<Money>,
    pub currency: Option<Currency>,
    pub announced_on: NaiveDate,
    pub status: PledgeStatus,
    pub part_of: Option<Reference>,
    pub earmark: Earmark,
    pub conditions: Text,
    pub public: bool,
    pub note: Text,
}

/// Serialised (snake_case, externally tagged) to tell apart two requests under one idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    AddParticipant {
        code: ParticipantCode,
        alpha2: Option<String>,
        name: Name,
        membership: Membership,
        party: Party,
    },
    AddUser {
        username: Username,
        participant: ParticipantCode,
        name: Name,
        roles: BTreeSet<Role>,
    },
    SetUserRoles {
        username: Username,
        roles: BTreeSet<Role>,
    },
    SetUserActive {
        username: Username,
        active: bool,
    },
    AddItem {
        code: ItemCode,
        name: Name,
        category: Category,
        lethal: bool,
        unit_price: Money,
        lead_time_days: u32,
    },
    PriceItem {
        code: ItemCode,
        unit_price: Money,
        lead_time_days: Option<u32>,
    },
    CreateList {
        period: Period,
    },
    DraftListVersion {
        period: Period,
    },
    AddLine {
        period: Period,
        rank: Option<u32>,
        #[serde(flatten)]
        line: NewLine,
    },
    UpdateLine {
        period: Period,
        line_id: String,
        quantity: Option<u64>,
        needed_by: Option<NaiveDate>,
        justification: Option<Text>,
    },
    MoveLine {
        period: Period,
        line_id: String,
        rank: u32,
    },
    RemoveLine {
        period: Period,
        line_id: String,
    },
    ReplaceLines {
        period: Period,
        lines: Vec<NewLine>,
    },
    SubmitList {
        period: Period,
    },
    ReturnList {
        period: Period,
    },
    ApproveList {
        period: Period,
        version: u32,
        party: Party,
    },
    RecordPledge {
        #[serde(flatten)]
        pledge: NewPledge,
    },
    CommitPledge {
        reference: Reference,
    },
    WithdrawPledge {
        reference: Reference,
    },
    SetPledgePublic {
        reference: Reference,
        public: bool,
    },
    SetPledgeAmount {
        reference: Reference,
        amount: Money,
    },
    RecordPayment {
        pledge: Reference,
        amount: Money,
        received_on: NaiveDate,
        note: Text,
    },
    RecordRates {
        rates: Vec<FxRate>,
    },
    /// GDP figures for burden sharing; a figure for a country and year already recorded with a
    /// different value is a revision and replaces it.
    RecordGdp {
        figures: Vec<crate::gdp::GdpFigure>,
    },
    CreatePackage {
        name: Name,
    },
    AddPackageLine {
        number: u32,
        period: Period,
        line_id: String,
        quantity: u64,
    },
    AllocateContribution {
        number: u32,
        pledge: Reference,
        amount: Money,
    },
    SetPackageStatus {
        number: u32,
        status: PackageStatus,
    },
    ShipDelivery {
        package: u32,
        line_id: String,
        quantity: u64,
        shipped_on: NaiveDate,
    },
    ReceiveDelivery {
        id: String,
        received_on: NaiveDate,
        quantity: u64,
    },
    /// Records an allocation run (its number and date are assigned here).
    CommitAllocation {
        allocation: crate::allocation::CommittedAllocation,
    },
}

impl Command {
    /// Adds a participant as it is: the command that onboards `participant`.
    pub fn add_participant(participant: crate::participant::Participant) -> Command {
        Command::AddParticipant {
            code: participant.code,
            alpha2: participant.alpha2,
            name: participant.name,
            membership: participant.membership,
            party: participant.party,
        }
    }

    /// The commands that record the reference participants (the Allies, partners, UKR, NATO, USA).
    pub fn add_reference_participants() -> Vec<Command> {
        crate::participant::reference_participants()
            .into_iter()
            .map(Command::add_participant)
            .collect()
    }
}

/// What `decide` needs beyond the state: who asks, and the date the command is made on.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub actor: &'a Actor,
    pub today: NaiveDate,
}

impl Context<'_> {
    fn require(&self, action: Action) -> Result<(), DomainError> {
        if allows(self.actor, &action) {
            Ok(())
        } else {
            Err(DomainError::Denied)
        }
    }
}

impl Command {
    /// The record an update changes, so an expected version can be checked against it.
    pub fn target(&self) -> Option<RecordKey> {
        use Command as C;
        let key = |kind, id: &dyn ToString| {
            Some(RecordKey {
                kind,
                id: id.to_string(),
            })
        };
        match self {
            C::SetUserRoles { username, .. } | C::SetUserActive { username, .. } => {
                key(RecordKind::User, username)
            }
            C::PriceItem { code, .. } => key(RecordKind::Item, code),
            C::DraftListVersion { period }
            | C::AddLine { period, .. }
            | C::UpdateLine { period, .. }
            | C::MoveLine { period, .. }
            | C::RemoveLine { period, .. }
            | C::ReplaceLines { period, .. }
            | C::SubmitList { period }
            | C::ReturnList { period }
            | C::ApproveList { period, .. } => key(RecordKind::List, period),
            C::CommitPledge { reference }
            | C::WithdrawPledge { reference }
            | C::SetPledgePublic { reference, .. }
            | C::SetPledgeAmount { reference, .. } => key(RecordKind::Pledge, reference),
            C::RecordPayment { pledge, .. } => key(RecordKind::Pledge, pledge),
            C::AddPackageLine { number, .. }
            | C::AllocateContribution { number, .. }
            | C::SetPackageStatus { number, .. } => key(RecordKind::Package, number),
            C::ShipDelivery { package, .. } => key(RecordKind::Package, package),
            C::ReceiveDelivery { id, .. } => key(RecordKind::Delivery, id),
            C::AddParticipant { .. }
            | C::AddUser { .. }
            | C::AddItem { .. }
            | C::CreateList { .. }
            | C::RecordPledge { .. }
            | C::RecordRates { .. }
            | C::RecordGdp { .. }
            | C::CreatePackage { .. }
            | C::CommitAllocation { .. } => None,
        }
    }
}

/// Decides `command` against `state`: the events to append, or why it is refused. An update with
/// `expected_version` is refused when its target record has moved on (no lost updates).
pub fn decide(
    state: &State,
    context: &Context<'_>,
    command: &Command,
    expected_version: Option<u64>,
) -> Result<Vec<EventPayload>, DomainError> {
    if let Some(target) = command.target() {
        if crate::access::may_see(Some(context.actor), state, &target) == Some(false) {
            return Err(DomainError::not_found(target.kind.as_str(), &target.id));
        }
        if let Some(expected) = expected_version {
            check_version(state, &target, expected)?;
        }
    }
    use Command as C;
    match command {
        C::AddParticipant { .. }
        | C::AddUser { .. }
        | C::SetUserRoles { .. }
        | C::SetUserActive { .. }
        | C::AddItem { .. }
        | C::PriceItem { .. } => reference::decide(state, context, command),
        C::CreateList { .. }
        | C::DraftListVersion { .. }
        | C::AddLine { .. }
        | C::UpdateLine { .. }
        | C::MoveLine { .. }
        | C::RemoveLine { .. }
        | C::ReplaceLines { .. }
        | C::SubmitList { .. }
        | C::ReturnList { .. }
        | C::ApproveList { .. } => list::decide(state, context, command),
        C::RecordPledge { .. }
        | C::CommitPledge { .. }
        | C::WithdrawPledge { .. }
        | C::SetPledgePublic { .. }
        | C::SetPledgeAmount { .. }
        | C::RecordPayment { .. }
        | C::RecordRates { .. }
        | C::RecordGdp { .. } => money::decide(state, context, command),
        C::CreatePackage { .. }
        | C::AddPackageLine { .. }
        | C::AllocateContribution { .. }
        | C::SetPackageStatus { .. }
        | C::ShipDelivery { .. }
        | C::ReceiveDelivery { .. } => package::decide(state, context, command),
        C::CommitAllocation { allocation } => {
            package::commit_allocation(state, context, allocation)
        }
    }
}

fn check_version(state: &State, target: &RecordKey, expected: u64) -> Result<(), DomainError> {
    let what = target.kind.as_str();
    let record = state
        .record(target)
        .ok_or_else(|| DomainError::not_found(what, &target.id))?;
    if record.version != expected {
        return Err(DomainError::StaleVersion {
            what,
            id: target.id.clone(),
            expected,
            actual: record.version,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;

//! The access policy for commands: who may change what. One exhaustive match per decision, no
//! wildcard arms, so a new action or party forces a decision here.

use crate::ids::ParticipantCode;
use crate::participant::Party;
use crate::user::{Actor, Role};

/// Everything a command may do, at the granularity the policy decides on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    ManageParticipants,
    ManageUsers { participant: ParticipantCode },
    EditCatalogue,
    DraftList,
    SubmitList,
    ApproveList { party: Party },
    RecordPledge { contributors: Vec<ParticipantCode> },
    RecordPayment,
    RecordRates,
    ManagePackages,
    ReportPackageProgress,
    RecordShipment,
    ConfirmReceipt,
}

/// Whether `actor` may perform `action`. The operator may do everything.
pub fn allows(actor: &Actor, action: &Action) -> bool {
    match actor {
        Actor::Operator => true,
        Actor::User {
            participant,
            party,
            roles,
            ..
        } => {
            let has = |role: Role| roles.contains(&role);
            user_allows(*party, participant, &has, action)
        }
    }
}

fn user_allows(
    party: Party,
    participant: &ParticipantCode,
    has: &dyn Fn(Role) -> bool,
    action: &Action,
) -> bool {
    let coordinator = party == Party::Coordinator;
    match action {
        Action::ManageParticipants => coordinator && has(Role::Admin),
        Action::ManageUsers {
            participant: target,
        } => {
            has(Role::Admin) && (coordinator || (target == participant && party != Party::Auditor))
        }
        Action::EditCatalogue => party == Party::Supplier && has(Role::Editor),
        Action::DraftList => party == Party::Requester && has(Role::Editor),
        Action::SubmitList => party == Party::Requester && has(Role::Approver),
        Action::ApproveList { party: approving } => {
            *approving == party
                && crate::list::APPROVING_PARTIES.contains(&party)
                && has(Role::Approver)
        }
        Action::RecordPledge { contributors } => {
            has(Role::Editor)
                && (coordinator
                    || (party == Party::Contributor && contributors.contains(participant)))
        }
        Action::RecordPayment | Action::RecordRates | Action::ManagePackages => {
            coordinator && has(Role::Editor)
        }
        Action::ReportPackageProgress => {
            (coordinator || party == Party::Supplier) && has(Role::Editor)
        }
        Action::RecordShipment => party == Party::Supplier && has(Role::Editor),
        Action::ConfirmReceipt => party == Party::Requester && has(Role::Editor),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Username;

    fn user(party: Party, code: &str, roles: &[Role]) -> Actor {
        Actor::User {
            username: Username::parse("someone").unwrap(),
            participant: ParticipantCode::parse(code).unwrap(),
            party,
            roles: roles.iter().copied().collect(),
        }
    }

    #[test]
    fn only_the_named_contributor_or_the_coordinator_records_a_pledge() {
        let pledge = Action::RecordPledge {
            contributors: vec![ParticipantCode::parse("NLD").unwrap()],
        };
        assert!(allows(
            &user(Party::Contributor, "NLD", &[Role::Editor]),
            &pledge
        ));
        assert!(!allows(
            &user(Party::Contributor, "DEU", &[Role::Editor]),
            &pledge
        ));
        assert!(!allows(
            &user(Party::Contributor, "NLD", &[Role::Viewer]),
            &pledge
        ));
        assert!(allows(
            &user(Party::Coordinator, "NATO", &[Role::Editor]),
            &pledge
        ));
        assert!(!allows(
            &user(Party::Supplier, "USA", &[Role::Editor]),
            &pledge
        ));
    }

    #[test]
    fn each_party_approves_only_for_itself() {
        let supplier_approval = Action::ApproveList {
            party: Party::Supplier,
        };
        assert!(allows(
            &user(Party::Supplier, "USA", &[Role::Approver]),
            &supplier_approval
        ));
        assert!(!allows(
            &user(Party::Supplier, "USA", &[Role::Editor]),
            &supplier_approval
        ));
        assert!(!allows(
            &user(Party::Requester, "UKR", &[Role::Approver]),
            &supplier_approval
        ));
    }

    #[test]
    fn viewers_and_auditors_change_nothing() {
        let actions = [
            Action::DraftList,
            Action::RecordPayment,
            Action::ManagePackages,
            Action::RecordShipment,
            Action::ConfirmReceipt,
            Action::EditCatalogue,
        ];
        for action in &actions {
            assert!(
                !allows(&user(Party::Auditor, "IBAN", &Role::ALL), action),
                "{action:?}"
            );
            for party in Party::ALL {
                assert!(
                    !allows(&user(party, "XXX", &[Role::Viewer]), action),
                    "{action:?}"
                );
            }
        }
    }
}

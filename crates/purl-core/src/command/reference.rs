//! Participants, users and the catalogue.

use super::{Command, Context};
use crate::catalogue::CatalogueItem;
use crate::error::DomainError;
use crate::event::EventPayload;
use crate::money::Currency;
use crate::participant::Participant;
use crate::policy::Action;
use crate::state::State;
use crate::user::User;

pub(super) fn decide(
    state: &State,
    context: &Context<'_>,
    command: &Command,
) -> Result<Vec<EventPayload>, DomainError> {
    match command {
        Command::AddParticipant {
            code,
            alpha2,
            name,
            membership,
            party,
        } => {
            context.require(Action::ManageParticipants)?;
            if state.participants.contains_key(code) {
                return Err(DomainError::AlreadyExists {
                    what: "participant",
                    id: code.to_string(),
                });
            }
            let participant = Participant {
                code: code.clone(),
                alpha2: alpha2.clone(),
                name: name.clone(),
                membership: *membership,
                party: *party,
                version: 0,
            };
            Ok(vec![EventPayload::ParticipantAdded { participant }])
        }
        Command::AddUser {
            username,
            participant,
            name,
            roles,
        } => {
            context.require(Action::ManageUsers {
                participant: participant.clone(),
            })?;
            if !state.participants.contains_key(participant) {
                return Err(DomainError::not_found("participant", participant));
            }
            if state.users.contains_key(username) {
                return Err(DomainError::AlreadyExists {
                    what: "user",
                    id: username.to_string(),
                });
            }
            let user = User {
                username: username.clone(),
                participant: participant.clone(),
                name: name.clone(),
                roles: roles.clone(),
                active: true,
                version: 0,
            };
            Ok(vec![EventPayload::UserAdded { user }])
        }
        Command::SetUserRoles { username, roles } => {
            let user = user_for_admin(state, context, username)?;
            if &user.roles == roles {
                return Ok(Vec::new());
            }
            Ok(vec![EventPayload::UserRolesSet {
                username: username.clone(),
                roles: roles.clone(),
            }])
        }
        Command::SetUserActive { username, active } => {
            let user = user_for_admin(state, context, username)?;
            if user.active == *active {
                return Ok(Vec::new());
            }
            Ok(vec![EventPayload::UserActiveSet {
                username: username.clone(),
                active: *active,
            }])
        }
        Command::AddItem { .. } | Command::PriceItem { .. } => decide_item(state, context, command),
        _ => unreachable!("command::decide routes only reference-data commands here"),
    }
}

fn user_for_admin<'a>(
    state: &'a State,
    context: &Context<'_>,
    username: &crate::ids::Username,
) -> Result<&'a User, DomainError> {
    let user = state
        .users
        .get(username)
        .ok_or_else(|| DomainError::not_found("user", username))?;
    context
        .require(Action::ManageUsers {
            participant: user.participant.clone(),
        })
        .map_err(|_| DomainError::not_found("user", username))?;
    Ok(user)
}

fn decide_item(
    state: &State,
    context: &Context<'_>,
    command: &Command,
) -> Result<Vec<EventPayload>, DomainError> {
    context.require(Action::EditCatalogue)?;
    match command {
        Command::AddItem {
            code,
            name,
            category,
            lethal,
            unit_price,
            lead_time_days,
        } => {
            if state.items.contains_key(code) {
                return Err(DomainError::AlreadyExists {
                    what: "item",
                    id: code.to_string(),
                });
            }
            require_usd_price(*unit_price)?;
            let item = CatalogueItem {
                code: code.clone(),
                name: name.clone(),
                category: category.clone(),
                lethal: *lethal,
                unit_price: *unit_price,
                lead_time_days: *lead_time_days,
                version: 0,
            };
            Ok(vec![EventPayload::ItemAdded { item }])
        }
        Command::PriceItem {
            code,
            unit_price,
            lead_time_days,
        } => {
            let item = state
                .items
                .get(code)
                .ok_or_else(|| DomainError::not_found("item", code))?;
            require_usd_price(*unit_price)?;
            let lead_time_days = lead_time_days.unwrap_or(item.lead_time_days);
            if item.unit_price == *unit_price && item.lead_time_days == lead_time_days {
                return Ok(Vec::new());
            }
            Ok(vec![EventPayload::ItemPriced {
                code: code.clone(),
                unit_price: *unit_price,
                lead_time_days,
            }])
        }
        _ => unreachable!("only item commands reach here"),
    }
}

fn require_usd_price(price: crate::money::Money) -> Result<(), DomainError> {
    if price.currency() != Currency::USD || !price.is_positive() {
        return Err(DomainError::invalid(format!(
            "unit price {price} must be a positive amount in USD"
        )));
    }
    Ok(())
}

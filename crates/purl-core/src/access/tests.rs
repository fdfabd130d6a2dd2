//! Need-to-know decisions on a small world: two contributors, one funding a package.

use std::collections::BTreeSet;

use super::*;
use crate::command::Command;
use crate::ids::{Name, Text, Username};
use crate::test_world::{code, day, money, period, pledge as new_pledge, reference, usd, World};

fn contributor(code_text: &str) -> Scope {
    Scope::Contributor(code(code_text))
}

/// NLD funds package 1 from a confidential pledge; DEU has a public pledge and funds nothing.
fn world() -> World {
    let mut world = World::new();
    world.with_list_of(&[("PAC3", 10), ("IFAK", 500)]);
    world.approve_all(1);
    let mut secret = new_pledge("NLD-1", &["NLD"], Some(money("10000000", "EUR")));
    secret.public = false;
    world.given(Command::RecordPledge { pledge: secret });
    world.given(Command::RecordPledge {
        pledge: new_pledge("DEU-1", &["DEU"], Some(money("5000000", "EUR"))),
    });
    world.given(Command::RecordPayment {
        pledge: reference("NLD-1"),
        amount: money("1000000", "EUR"),
        received_on: day("2025-12-03"),
        note: Text::default(),
    });
    world.given(Command::CreatePackage {
        name: Name::parse("Package 1").unwrap(),
    });
    let line = world.state.lists[&period()].latest().lines[0].id.clone();
    world.given(Command::AddPackageLine {
        number: 1,
        period: period(),
        line_id: line,
        quantity: 1,
    });
    world.given(Command::AllocateContribution {
        number: 1,
        pledge: reference("NLD-1"),
        amount: money("1000000", "EUR"),
    });
    world
}

#[test]
fn a_confidential_pledge_is_seen_by_its_contributor_and_the_coordinator_only() {
    let world = world();
    let secret = &world.state.pledges[&reference("NLD-1")];
    let public = &world.state.pledges[&reference("DEU-1")];
    assert_eq!(pledge(&contributor("NLD"), secret), Visibility::Full);
    assert_eq!(pledge(&Scope::Everything, secret), Visibility::Full);
    assert_eq!(pledge(&contributor("DEU"), secret), Visibility::Hidden);
    assert_eq!(pledge(&contributor("NLD"), public), Visibility::Summary);
    for scope in [
        Scope::Requester,
        Scope::Supplier,
        Scope::Auditor,
        Scope::Public,
    ] {
        assert_eq!(pledge(&scope, secret), Visibility::Hidden, "{scope:?}");
        assert_eq!(pledge(&scope, public), Visibility::Summary, "{scope:?}");
    }
    assert_eq!(pledge(&contributor("DEU"), public), Visibility::Full);
}

#[test]
fn payments_are_seen_by_the_paying_contributor_and_the_coordinator_only() {
    let world = world();
    let paid = world.state.payments.values().next().unwrap();
    assert_eq!(
        payment(&contributor("NLD"), &world.state, paid),
        Visibility::Full
    );
    assert_eq!(
        payment(&Scope::Everything, &world.state, paid),
        Visibility::Full
    );
    for scope in [
        contributor("DEU"),
        Scope::Requester,
        Scope::Supplier,
        Scope::Public,
    ] {
        assert_eq!(payment(&scope, &world.state, paid), Visibility::Hidden);
    }
}

#[test]
fn a_package_is_full_for_its_funder_and_a_summary_for_other_contributors() {
    let world = world();
    let first = &world.state.packages[&1];
    assert!(funds(&world.state, &code("NLD"), first));
    assert!(!funds(&world.state, &code("DEU"), first));
    assert_eq!(
        package(&contributor("NLD"), &world.state, first),
        Visibility::Full
    );
    assert_eq!(
        package(&contributor("DEU"), &world.state, first),
        Visibility::Summary
    );
    assert_eq!(
        package(&Scope::Supplier, &world.state, first),
        Visibility::Full
    );
    assert_eq!(
        package(&Scope::Public, &world.state, first),
        Visibility::Hidden
    );
    assert_eq!(
        package(&Scope::Auditor, &world.state, first),
        Visibility::Hidden
    );
}

#[test]
fn a_contributor_sees_the_lines_it_funds_and_only_totals_of_the_rest() {
    let world = world();
    let list = &world.state.lists[&period()];
    let funder = list_summary(&world.state, &code("NLD"), list);
    let version = &funder.versions[0];
    assert_eq!(version.funded_lines.len(), 1);
    assert_eq!(version.funded_lines[0].rank, 1);
    assert_eq!(version.funded_lines[0].line.item.as_str(), "PAC3");
    let air = &version.totals_by_category[&crate::ids::Category::parse("air-defence").unwrap()];
    assert_eq!((air.lines, air.quantity), (1, 10));
    assert_eq!(air.value, Some(usd("40000000")));
    let other = list_summary(&world.state, &code("DEU"), list);
    assert!(other.versions[0].funded_lines.is_empty());
    assert_eq!(other.versions[0].totals_by_category.len(), 2);
}

#[test]
fn users_are_seen_by_themselves_their_admins_and_coordinator_admins() {
    let target = crate::user::User {
        username: Username::parse("anna").unwrap(),
        participant: code("NLD"),
        name: Name::parse("Anna").unwrap(),
        roles: BTreeSet::from([Role::Editor]),
        active: true,
        version: 1,
    };
    let actor = |name: &str, party: Party, participant: &str, roles: &[Role]| Actor::User {
        username: Username::parse(name).unwrap(),
        participant: code(participant),
        party,
        roles: roles.iter().copied().collect(),
    };
    let seen = |who: &Actor| user(Some(who), &target) == Visibility::Full;
    assert!(seen(&actor(
        "anna",
        Party::Contributor,
        "NLD",
        &[Role::Viewer]
    )));
    assert!(seen(&actor(
        "boss",
        Party::Contributor,
        "NLD",
        &[Role::Admin]
    )));
    assert!(seen(&actor(
        "cell",
        Party::Coordinator,
        "NATO",
        &[Role::Admin]
    )));
    assert!(!seen(&actor(
        "peer",
        Party::Contributor,
        "NLD",
        &[Role::Editor]
    )));
    assert!(!seen(&actor(
        "other",
        Party::Contributor,
        "DEU",
        &[Role::Admin]
    )));
    assert!(!seen(&actor(
        "cell",
        Party::Coordinator,
        "NATO",
        &[Role::Editor]
    )));
    assert_eq!(user(None, &target), Visibility::Hidden);
    assert_eq!(access_log(None), Visibility::Hidden);
    assert_eq!(
        access_log(Some(&actor("aud", Party::Auditor, "BRH", &[Role::Viewer]))),
        Visibility::Full
    );
}

#[test]
fn a_command_on_a_record_its_actor_may_not_see_is_refused_as_if_it_did_not_exist() {
    let mut world = world();
    world.actor = Actor::User {
        username: Username::parse("deu-editor").unwrap(),
        participant: code("DEU"),
        party: Party::Contributor,
        roles: BTreeSet::from([Role::Editor]),
    };
    let hidden = world.refused(Command::WithdrawPledge {
        reference: reference("NLD-1"),
    });
    let missing = world.refused(Command::WithdrawPledge {
        reference: reference("NLD-404"),
    });
    assert_eq!(hidden, "pledge 'NLD-1' does not exist");
    assert_eq!(missing, "pledge 'NLD-404' does not exist");
    assert_eq!(
        world.refused(Command::SetPackageStatus {
            number: 1,
            status: crate::package::PackageStatus::Cancelled,
        }),
        "not permitted",
        "a package it does not fund is visible in summary, so changing it is plainly refused"
    );
}

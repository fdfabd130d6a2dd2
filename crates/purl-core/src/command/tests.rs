//! Given/when/then tests of the rules, without a database.

use super::*;
use crate::list::ListStatus;
use crate::test_world::*;

#[test]
fn a_version_is_approved_only_when_all_three_parties_approved_that_version() {
    let mut world = World::new();
    world.with_list_of(&[("PAC3", 10)]);
    world.given(Command::SubmitList { period: period() });
    world.given(Command::ApproveList {
        period: period(),
        version: 1,
        party: Party::Requester,
    });
    world.given(Command::ApproveList {
        period: period(),
        version: 1,
        party: Party::Supplier,
    });
    assert_eq!(
        world.state.lists[&period()].latest().status,
        ListStatus::Submitted
    );
    let twice = world.refused(Command::ApproveList {
        period: period(),
        version: 1,
        party: Party::Supplier,
    });
    assert_eq!(twice, "the supplier has already approved 2025-12 v1");
    world.given(Command::ApproveList {
        period: period(),
        version: 1,
        party: Party::Coordinator,
    });
    assert_eq!(
        world.state.lists[&period()].latest().status,
        ListStatus::Approved
    );
}

#[test]
fn approving_a_new_version_supersedes_the_old_and_old_versions_stay_readable() {
    let mut world = World::new();
    world.with_list_of(&[("PAC3", 10), ("IFAK", 500)]);
    world.approve_all(1);
    world.given(Command::DraftListVersion { period: period() });
    let second = world.state.lists[&period()].latest().lines[1].id.clone();
    world.given(Command::MoveLine {
        period: period(),
        line_id: second,
        rank: 1,
    });
    world.approve_all(2);
    let list = &world.state.lists[&period()];
    assert_eq!(list.get_version(1).unwrap().status, ListStatus::Superseded);
    assert_eq!(list.get_version(2).unwrap().status, ListStatus::Approved);
    assert_eq!(list.get_version(1).unwrap().lines[0].item.as_str(), "PAC3");
    assert_eq!(list.get_version(2).unwrap().lines[0].item.as_str(), "IFAK");
}

#[test]
fn list_transitions_out_of_order_are_refused_with_the_status_named() {
    let mut world = World::new();
    world.with_list_of(&[("PAC3", 10)]);
    let approve_draft = world.refused(Command::ApproveList {
        period: period(),
        version: 1,
        party: Party::Requester,
    });
    assert_eq!(
        approve_draft,
        "list version '2025-12 v1' is draft: cannot approve"
    );
    let return_draft = world.refused(Command::ReturnList { period: period() });
    assert_eq!(
        return_draft,
        "list version '2025-12 v1' is draft: cannot return to draft"
    );
    world.given(Command::SubmitList { period: period() });
    let edit = world.refused(Command::AddLine {
        period: period(),
        rank: None,
        line: new_line("IFAK", 1),
    });
    assert!(edit.contains("is submitted: cannot edit lines"), "{edit}");
    let resubmit = world.refused(Command::SubmitList { period: period() });
    assert_eq!(
        resubmit,
        "list version '2025-12 v1' is submitted: cannot submit"
    );
    world.given(Command::ReturnList { period: period() });
    world.approve_all(1);
    let after_approval = world.refused(Command::SubmitList { period: period() });
    assert_eq!(
        after_approval,
        "list version '2025-12 v1' is approved: cannot submit"
    );
    let new_draft_twice = {
        world.given(Command::DraftListVersion { period: period() });
        world.refused(Command::DraftListVersion { period: period() })
    };
    assert!(
        new_draft_twice.contains("already has version 2 in status draft"),
        "{new_draft_twice}"
    );
}

#[test]
fn a_line_must_name_a_catalogue_item_and_a_positive_quantity() {
    let mut world = World::new();
    world.given(Command::CreateList { period: period() });
    let unknown = world.refused(Command::AddLine {
        period: period(),
        rank: None,
        line: new_line("NOPE", 1),
    });
    assert_eq!(unknown, "item 'NOPE' does not exist");
    let zero = world.refused(Command::AddLine {
        period: period(),
        rank: None,
        line: new_line("PAC3", 0),
    });
    assert!(zero.starts_with("quantity 0 must be between 1"), "{zero}");
    let rank = world.refused(Command::AddLine {
        period: period(),
        rank: Some(3),
        line: new_line("PAC3", 1),
    });
    assert_eq!(rank, "rank 3 must be between 1 and 1");
}

#[test]
fn pledge_lifecycle_commits_pays_and_refuses_what_breaks_it() {
    let mut world = World::new();
    let mut announced = pledge("NLD-1", &["NLD"], Some(money("1000", "EUR")));
    announced.status = PledgeStatus::Announced;
    world.given(Command::RecordPledge { pledge: announced });
    let payment = |amount: &str| Command::RecordPayment {
        pledge: reference("NLD-1"),
        amount: money(amount, "EUR"),
        received_on: day("2025-12-03"),
        note: Text::default(),
    };
    let early = world.refused(payment("10"));
    assert_eq!(
        early,
        "pledge 'NLD-1' is announced: cannot receive a payment (commit it first)"
    );
    world.given(Command::CommitPledge {
        reference: reference("NLD-1"),
    });
    assert!(world
        .refused(Command::CommitPledge {
            reference: reference("NLD-1")
        })
        .contains("is committed: cannot commit"));
    world.given(payment("400"));
    assert_eq!(
        world.state.pledges[&reference("NLD-1")].display_status(),
        "partly paid"
    );
    let too_much = world.refused(payment("600.01"));
    assert!(too_much.contains("more than its 1000.00 EUR"), "{too_much}");
    let wrong_currency = world.refused(Command::RecordPayment {
        pledge: reference("NLD-1"),
        amount: money("1", "NOK"),
        received_on: day("2025-12-03"),
        note: Text::default(),
    });
    assert_eq!(
        wrong_currency,
        "payment is in NOK, but pledge NLD-1 is in EUR"
    );
    world.given(payment("600"));
    assert_eq!(
        world.state.pledges[&reference("NLD-1")].display_status(),
        "paid"
    );
    let payment = &world.state.payments["PAY-000001"];
    assert_eq!(payment.conversion.usd.amount_string(), "440.00");
    let withdraw = world.refused(Command::WithdrawPledge {
        reference: reference("NLD-1"),
    });
    assert!(withdraw.contains("partly or fully paid"), "{withdraw}");
}

#[test]
fn withdrawn_pledges_accept_nothing_more() {
    let mut world = World::new();
    world.given(Command::RecordPledge {
        pledge: pledge("DEU-1", &["DEU"], Some(usd("5"))),
    });
    world.given(Command::WithdrawPledge {
        reference: reference("DEU-1"),
    });
    assert!(world
        .refused(Command::WithdrawPledge {
            reference: reference("DEU-1")
        })
        .contains("is withdrawn: cannot withdraw"));
    assert!(world
        .refused(Command::CommitPledge {
            reference: reference("DEU-1")
        })
        .contains("is withdrawn: cannot commit"));
    assert!(world
        .refused(Command::SetPledgeAmount {
            reference: reference("DEU-1"),
            amount: usd("6")
        })
        .contains("withdrawn"));
}

#[test]
fn shares_point_at_a_joint_pledge_of_the_same_contributors_and_take_no_payments() {
    let mut world = World::new();
    world.given(Command::RecordPledge {
        pledge: pledge(
            "DNS",
            &["DNK", "NOR", "SWE"],
            Some(money("5000000000", "NOK")),
        ),
    });
    let mut share = pledge("SWE-SHARE", &["SWE"], Some(usd("275000000")));
    share.part_of = Some(reference("DNS"));
    world.given(Command::RecordPledge {
        pledge: share.clone(),
    });
    let mut dangling = share.clone();
    dangling.reference = reference("X1");
    dangling.part_of = Some(reference("NOWHERE"));
    assert_eq!(
        world.refused(Command::RecordPledge { pledge: dangling }),
        "pledge 'NOWHERE' does not exist"
    );
    let mut outsider = share.clone();
    outsider.reference = reference("X2");
    outsider.contributors = vec![code("POL")];
    assert_eq!(
        world.refused(Command::RecordPledge { pledge: outsider }),
        "POL is not one of the contributors of the joint pledge DNS"
    );
    let paid = world.refused(Command::RecordPayment {
        pledge: reference("SWE-SHARE"),
        amount: usd("1"),
        received_on: day("2025-12-03"),
        note: Text::default(),
    });
    assert!(
        paid.contains("record payments against the joint pledge"),
        "{paid}"
    );
}

#[test]
fn contributors_must_be_known_contributing_participants() {
    let mut world = World::new();
    assert_eq!(
        world.refused(Command::RecordPledge {
            pledge: pledge("A", &["BRA"], None)
        }),
        "participant 'BRA' does not exist"
    );
    assert_eq!(
        world.refused(Command::RecordPledge {
            pledge: pledge("B", &["USA"], None)
        }),
        "USA is the supplier, not a contributor"
    );
    assert_eq!(
        world.refused(Command::RecordPledge {
            pledge: pledge("C", &["NLD", "NLD"], None)
        }),
        "contributor NLD is named twice"
    );
}

#[test]
fn a_contributor_records_its_own_pledges_only_and_learns_nothing_of_others() {
    let mut world = World::new();
    world.given(Command::RecordPledge {
        pledge: pledge("DEU-1", &["DEU"], Some(usd("5"))),
    });
    world.actor = Actor::User {
        username: Username::parse("anna").unwrap(),
        participant: code("NLD"),
        party: Party::Contributor,
        roles: [Role::Editor].into_iter().collect(),
    };
    world.given(Command::RecordPledge {
        pledge: pledge("NLD-1", &["NLD"], Some(usd("5"))),
    });
    assert_eq!(
        world.refused(Command::RecordPledge {
            pledge: pledge("NLD-2", &["DEU"], None)
        }),
        "not permitted"
    );
    assert_eq!(
        world.refused(Command::CommitPledge {
            reference: reference("DEU-1")
        }),
        "pledge 'DEU-1' does not exist"
    );
}

#[test]
fn a_package_runs_its_whole_pipeline_and_refuses_steps_out_of_order() {
    let mut world = World::new();
    world.with_list_of(&[("PAC3", 10), ("IFAK", 500)]);
    world.approve_all(1);
    world.given(Command::CreatePackage {
        name: Name::parse("Package 1").unwrap(),
    });
    let line = world.state.lists[&period()].latest().lines[0].id.clone();
    world.given(Command::AddPackageLine {
        number: 1,
        period: period(),
        line_id: line.clone(),
        quantity: 2,
    });
    let too_many = world.refused(Command::AddPackageLine {
        number: 1,
        period: period(),
        line_id: line.clone(),
        quantity: 9,
    });
    assert!(
        too_many.contains("has 8 of 10 units not yet packaged"),
        "{too_many}"
    );
    let unfunded = world.refused(Command::SetPackageStatus {
        number: 1,
        status: PackageStatus::Funded,
    });
    assert_eq!(
        unfunded,
        "package 1 is worth 8000000.00 USD but only 0.00 USD is allocated to it"
    );
    world.given(Command::RecordPledge {
        pledge: pledge("NLD-1", &["NLD"], Some(money("10000000", "EUR"))),
    });
    world.given(Command::AllocateContribution {
        number: 1,
        pledge: reference("NLD-1"),
        amount: money("7272728", "EUR"),
    });
    let skip = world.refused(Command::SetPackageStatus {
        number: 1,
        status: PackageStatus::Released,
    });
    assert_eq!(skip, "package '1' is forming: cannot become released");
    for status in [
        PackageStatus::Funded,
        PackageStatus::Released,
        PackageStatus::Contracted,
    ] {
        world.given(Command::SetPackageStatus { number: 1, status });
    }
    let early_delivered = world.refused(Command::SetPackageStatus {
        number: 1,
        status: PackageStatus::Delivered,
    });
    assert!(
        early_delivered.contains("cannot become delivered"),
        "{early_delivered}"
    );
    world.given(Command::ShipDelivery {
        package: 1,
        line_id: line.clone(),
        quantity: 2,
        shipped_on: day("2026-01-10"),
    });
    assert_eq!(world.state.packages[&1].status, PackageStatus::InDelivery);
    let not_received = world.refused(Command::SetPackageStatus {
        number: 1,
        status: PackageStatus::Delivered,
    });
    assert!(
        not_received.contains("has 0 of 2 units received"),
        "{not_received}"
    );
    let before_shipping = world.refused(Command::ReceiveDelivery {
        id: "DLV-000001".into(),
        received_on: day("2026-01-09"),
        quantity: 2,
    });
    assert!(
        before_shipping.contains("before it shipped"),
        "{before_shipping}"
    );
    world.given(Command::ReceiveDelivery {
        id: "DLV-000001".into(),
        received_on: day("2026-01-20"),
        quantity: 2,
    });
    world.given(Command::SetPackageStatus {
        number: 1,
        status: PackageStatus::Delivered,
    });
    world.given(Command::SetPackageStatus {
        number: 1,
        status: PackageStatus::Closed,
    });
    let cancel = world.refused(Command::SetPackageStatus {
        number: 1,
        status: PackageStatus::Cancelled,
    });
    assert!(
        cancel.contains("closed: cannot become cancelled"),
        "{cancel}"
    );
}

#[test]
fn earmarks_keep_money_off_lines_it_may_not_pay_for() {
    let mut world = World::new();
    world.with_list_of(&[("PAC3", 10)]);
    world.approve_all(1);
    world.given(Command::CreatePackage {
        name: Name::parse("Air defence").unwrap(),
    });
    let line = world.state.lists[&period()].latest().lines[0].id.clone();
    world.given(Command::AddPackageLine {
        number: 1,
        period: period(),
        line_id: line,
        quantity: 1,
    });
    let mut non_lethal = pledge("NZL-1", &["NZL"], Some(usd("5000000")));
    non_lethal.earmark.lethal_allowed = false;
    world.given(Command::RecordPledge { pledge: non_lethal });
    let refused = world.refused(Command::AllocateContribution {
        number: 1,
        pledge: reference("NZL-1"),
        amount: usd("1"),
    });
    assert!(
        refused.contains("earmark does not allow line L0001 (air-defence, lethal)"),
        "{refused}"
    );
}

#[test]
fn a_stale_expected_version_is_refused() {
    let mut world = World::new();
    world.given(Command::RecordPledge {
        pledge: pledge("NLD-1", &["NLD"], None),
    });
    let context = Context {
        actor: &Actor::Operator,
        today: day("2025-12-03"),
    };
    let command = Command::SetPledgePublic {
        reference: reference("NLD-1"),
        public: false,
    };
    let stale = decide(&world.state, &context, &command, Some(7)).unwrap_err();
    assert_eq!(
        stale.to_string(),
        "pledge 'NLD-1' is at version 1, not the expected version 7"
    );
    assert!(decide(&world.state, &context, &command, Some(1)).is_ok());
}

#[test]
fn replacing_lines_with_the_same_lines_changes_nothing_and_keeps_line_ids() {
    let mut world = World::new();
    let lines = vec![new_line("PAC3", 10), new_line("IFAK", 5)];
    world.given(Command::ReplaceLines {
        period: period(),
        lines: lines.clone(),
    });
    assert!(world
        .when(Command::ReplaceLines {
            period: period(),
            lines: lines.clone()
        })
        .unwrap()
        .is_empty());
    world.approve_all(1);
    let reordered = vec![new_line("IFAK", 5), new_line("PAC3", 12)];
    world.given(Command::ReplaceLines {
        period: period(),
        lines: reordered,
    });
    let list = &world.state.lists[&period()];
    assert_eq!(list.versions.len(), 2);
    let changes = crate::list::diff(list.get_version(1).unwrap(), list.get_version(2).unwrap());
    assert_eq!(changes.len(), 2, "{changes:?}");
}

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

const CATEGORIES: [&str; 3] = ["air-defence", "medical", "drones"];

fn category(name: &str) -> Category {
    Category::parse(name).unwrap()
}

fn line(
    id: &str,
    rank: u32,
    cat: &str,
    lethal: bool,
    unit_price: i64,
    quantity: u64,
) -> Requirement {
    Requirement {
        id: id.into(),
        rank,
        category: category(cat),
        lethal,
        unit_price,
        quantity,
    }
}

fn fund(id: &str, amount: i64, categories: Option<&[&str]>, lethal_allowed: bool) -> Fund {
    Fund {
        id: id.into(),
        contributor: "NLD".into(),
        amount,
        categories: categories.map(|c| c.iter().map(|n| category(n)).collect::<BTreeSet<_>>()),
        lethal_allowed,
    }
}

fn sentence(allocation: &Allocation, funds: &[Fund], index: usize) -> String {
    let shortfall = allocation.lines[index]
        .shortfall
        .as_ref()
        .expect("the line is short");
    shortfall.binding.sentence(
        &|f| funds[f].id.clone(),
        &|m| format!("{m}"),
        shortfall.more_money,
    )
}

/// Every flow respects the earmarks, no fund is overspent, and each line is paid exactly.
fn check_payments(requirements: &[Requirement], funds: &[Fund], allocation: &Allocation) {
    let mut used = vec![0i64; funds.len()];
    for (line, outcome) in requirements.iter().zip(&allocation.lines) {
        let paid: i64 = outcome.sources.iter().map(|(_, m)| m).sum();
        assert_eq!(
            paid,
            line.unit_price * i64::try_from(outcome.funded_quantity).unwrap(),
            "line {} is paid exactly",
            line.id
        );
        for (fund, money) in &outcome.sources {
            assert!(*money > 0);
            assert!(
                funds[*fund].allows(&line.category, line.lethal),
                "fund {} may pay for line {}",
                funds[*fund].id,
                line.id
            );
            used[*fund] += money;
        }
        assert_eq!(
            outcome.shortfall.is_some(),
            outcome.funded_quantity < line.quantity
        );
    }
    for ((fund, used), remaining) in funds.iter().zip(&used).zip(&allocation.remaining) {
        assert!(*used <= fund.amount, "fund {} is not overspent", fund.id);
        assert_eq!(*remaining, fund.amount - used);
    }
}

#[test]
fn a_flexible_fund_moves_off_an_early_line_so_a_restricted_later_line_is_funded() {
    let requirements = [
        line("R1", 1, "medical", false, 100, 1),
        line("R2", 2, "air-defence", true, 100, 1),
    ];
    let funds = [
        fund("ANY", 100, None, true),
        fund("MED", 100, Some(&["medical"]), false),
    ];
    let allocation = allocate(&requirements, &funds).unwrap();
    check_payments(&requirements, &funds, &allocation);
    assert_eq!(
        allocation.lines[0].sources,
        vec![(1, 100)],
        "rank 1 is paid by the medical-only fund"
    );
    assert_eq!(
        allocation.lines[1].sources,
        vec![(0, 100)],
        "so the flexible fund pays for air defence"
    );
}

#[test]
fn an_earlier_line_is_never_reduced_for_a_later_one() {
    let requirements = [
        line("R1", 1, "air-defence", true, 100, 2),
        line("R2", 2, "medical", false, 100, 1),
    ];
    let funds = [fund("ANY", 200, None, true)];
    let allocation = allocate(&requirements, &funds).unwrap();
    assert_eq!(allocation.lines[0].funded_quantity, 2);
    assert_eq!(allocation.lines[1].funded_quantity, 0);
}

#[test]
fn a_line_no_fund_may_pay_for_says_so() {
    let requirements = [line("R1", 1, "air-defence", true, 100, 1)];
    let funds = [
        fund("NZL", 1_000, None, false),
        fund("MED", 1_000, Some(&["medical"]), true),
    ];
    let allocation = allocate(&requirements, &funds).unwrap();
    check_payments(&requirements, &funds, &allocation);
    assert_eq!(
        sentence(&allocation, &funds, 0),
        "no fund may pay for air-defence (lethal); 100 more for air-defence (lethal) would fund it"
    );
}

#[test]
fn a_line_short_of_money_names_the_funds_the_lines_that_used_them_and_what_more_would_fund_it() {
    let requirements = [
        line("R1", 1, "air-defence", true, 100, 3),
        line("R2", 2, "drones", true, 50, 2),
        line("R3", 3, "air-defence", true, 100, 5),
        line("R4", 4, "medical", false, 10, 4),
    ];
    let funds = [
        fund("NLD", 450, Some(&["air-defence", "drones"]), true),
        fund("MED", 40, Some(&["medical"]), false),
    ];
    let allocation = allocate(&requirements, &funds).unwrap();
    check_payments(&requirements, &funds, &allocation);
    let funded: Vec<u64> = allocation.lines.iter().map(|l| l.funded_quantity).collect();
    assert_eq!(funded, vec![3, 2, 0, 4]);
    assert_eq!(
        sentence(&allocation, &funds, 2),
        "the money that may pay for air-defence (lethal) (funds NLD) is exhausted by 2 lines ranked 1–2 of air-defence (lethal), drones (lethal), leaving 50; 450 more for air-defence (lethal) would fund it fully"
    );
}

#[test]
fn a_partly_funded_line_gets_whole_units_only() {
    let requirements = [line("R1", 1, "drones", true, 30, 10)];
    let funds = [fund("A", 100, None, true)];
    let allocation = allocate(&requirements, &funds).unwrap();
    assert_eq!(allocation.lines[0].funded_quantity, 3);
    assert_eq!(allocation.remaining, vec![10]);
    assert_eq!(
        allocation.lines[0].shortfall.as_ref().unwrap().more_money,
        200,
        "7 more units cost 210, 10 are left"
    );
}

/// The obviously correct solver: rank by rank, the largest quantity for which the lines fixed so
/// far plus this one can still all be paid, checked by a max-flow over lines and funds.
fn reference(requirements: &[Requirement], funds: &[Fund]) -> Vec<u64> {
    let mut order: Vec<usize> = (0..requirements.len()).collect();
    order.sort_by_key(|&i| (requirements[i].rank, i));
    let mut fixed = vec![0u64; requirements.len()];
    for &index in &order {
        fixed[index] = (0..=requirements[index].quantity)
            .rev()
            .find(|&quantity| {
                let mut trial = fixed.clone();
                trial[index] = quantity;
                payable(requirements, funds, &trial)
            })
            .expect("zero is always payable");
    }
    fixed
}

/// Whether every line can be paid `unit_price × quantities[i]`: a plain augmenting-path max-flow.
fn payable(requirements: &[Requirement], funds: &[Fund], quantities: &[u64]) -> bool {
    let (lines, n) = (requirements.len(), requirements.len() + funds.len() + 2);
    let (source, sink) = (n - 2, n - 1);
    let mut capacity = vec![vec![0i128; n]; n];
    let mut wanted = 0;
    for (i, line) in requirements.iter().enumerate() {
        capacity[source][i] = i128::from(line.unit_price) * i128::from(quantities[i]);
        wanted += capacity[source][i];
        for (j, fund) in funds.iter().enumerate() {
            if fund.allows(&line.category, line.lethal) {
                capacity[i][lines + j] = i128::MAX / 4;
            }
        }
    }
    for (j, fund) in funds.iter().enumerate() {
        capacity[lines + j][sink] = i128::from(fund.amount);
    }
    let mut total = 0;
    loop {
        let mut parent = vec![usize::MAX; n];
        parent[source] = source;
        let mut stack = vec![source];
        while let Some(node) = stack.pop() {
            for next in 0..n {
                if parent[next] == usize::MAX && capacity[node][next] > 0 {
                    parent[next] = node;
                    stack.push(next);
                }
            }
        }
        if parent[sink] == usize::MAX {
            return total == wanted;
        }
        let mut bottleneck = i128::MAX;
        let mut node = sink;
        while node != source {
            bottleneck = bottleneck.min(capacity[parent[node]][node]);
            node = parent[node];
        }
        let mut node = sink;
        while node != source {
            capacity[parent[node]][node] -= bottleneck;
            capacity[node][parent[node]] += bottleneck;
            node = parent[node];
        }
        total += bottleneck;
    }
}

fn instance() -> impl Strategy<Value = (Vec<Requirement>, Vec<Fund>)> {
    let line = (0..3usize, any::<bool>(), 1i64..60, 0u64..5);
    let fund = (
        0i64..400,
        prop::option::of(prop::sample::subsequence(CATEGORIES.to_vec(), 1..=3)),
        any::<bool>(),
    );
    (
        prop::collection::vec(line, 1..=12),
        prop::collection::vec(fund, 1..=6),
        any::<u64>(),
    )
        .prop_map(|(lines, funds, shuffle)| {
            let count = lines.len() as u64;
            let requirements = lines
                .into_iter()
                .enumerate()
                .map(|(i, (cat, lethal, price, quantity))| {
                    let rank = u32::try_from((i as u64 * 7 + shuffle) % count).unwrap() + 1;
                    let rank = if count.is_multiple_of(7) {
                        u32::try_from(i).unwrap() + 1
                    } else {
                        rank
                    };
                    Requirement {
                        id: format!("R{i}"),
                        rank,
                        category: category(CATEGORIES[cat]),
                        lethal,
                        unit_price: price,
                        quantity,
                    }
                })
                .collect();
            let funds = funds
                .into_iter()
                .enumerate()
                .map(|(j, (amount, categories, lethal_allowed))| Fund {
                    id: format!("F{j}"),
                    contributor: "X".into(),
                    amount,
                    categories: categories.map(|c| c.into_iter().map(category).collect()),
                    lethal_allowed,
                })
                .collect();
            (requirements, funds)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn the_engine_matches_the_obviously_correct_solver((requirements, funds) in instance()) {
        let allocation = allocate(&requirements, &funds).unwrap();
        let funded: Vec<u64> = allocation.lines.iter().map(|l| l.funded_quantity).collect();
        prop_assert_eq!(funded, reference(&requirements, &funds));
        check_payments(&requirements, &funds, &allocation);
        prop_assert_eq!(allocate(&requirements, &funds).unwrap(), allocation, "deterministic");
    }
}

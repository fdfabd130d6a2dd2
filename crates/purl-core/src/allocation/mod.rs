//! Allocation: which money pays for which requirement lines.
//!
//! The result is the lexicographic maximum of funded quantities in rank order: rank 1 funded as
//! far as the money allows, then rank 2 with what remains, and so on, re-arranging which fund pays
//! for earlier lines whenever that lets a later line get more.
//!
//! How: lines of the same class (category × lethality) may be paid by exactly the same funds, so a
//! set of demands is payable iff, for every set T of classes, the demand of T is at most the money
//! of the funds allowed to pay for some class of T (Hall's condition for the transportation
//! problem). The engine keeps the slack s(T) = money(N(T)) − demand(T) of every class set, so the
//! most a line of class c can get is the least slack of any set containing c. It funds each line in
//! rank order with exactly that much, which is the definition of the lexicographic maximum, and
//! only afterwards computes one concrete flow (a small max-flow over classes and funds) and splits
//! it over the lines. Bounds on the slack skip the exact look-up for most lines.

mod flow;
pub mod packaging;
mod reason;

use std::sync::Arc;

pub use reason::Binding;

use crate::ids::Category;
use crate::limits::ALLOCATION_CLASSES_MAX;

/// A requirement line to fund: `quantity` units at `unit_price` minor units each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub id: String,
    pub rank: u32,
    pub category: Category,
    pub lethal: bool,
    pub unit_price: i64,
    pub quantity: u64,
}

/// Money that may pay for lines of the categories it allows (`None`: all), lethal or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fund {
    pub id: String,
    pub contributor: String,
    pub amount: i64,
    pub categories: Option<std::collections::BTreeSet<Category>>,
    pub lethal_allowed: bool,
}

impl Fund {
    pub fn allows(&self, category: &Category, lethal: bool) -> bool {
        (self.lethal_allowed || !lethal)
            && self
                .categories
                .as_ref()
                .is_none_or(|c| c.contains(category))
    }
}

/// The outcome for one line, in the order the lines were given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineOutcome {
    pub funded_quantity: u64,
    /// (fund index, minor units), summing to unit price × funded quantity.
    pub sources: Vec<(usize, i64)>,
    /// Why the line is not fully funded.
    pub shortfall: Option<Shortfall>,
}

/// Why a line is not fully funded, and what would fund it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortfall {
    /// The binding constraint at the time the line was reached (shared by many lines).
    pub binding: Arc<Binding>,
    /// Minor units of money allowed for this line's class that would fund it fully.
    pub more_money: i128,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub lines: Vec<LineOutcome>,
    /// Per fund, minor units not allocated.
    pub remaining: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    #[error("the lines fall into {0} classes of category and lethality; at most {max} are supported", max = ALLOCATION_CLASSES_MAX)]
    TooManyClasses(usize),
    #[error("line {id}: the unit price must be greater than zero")]
    NonPositivePrice { id: String },
    #[error("fund {id}: the amount must not be negative")]
    NegativeFund { id: String },
    #[error("the funds add up to more than the engine can count")]
    TooMuchMoney,
}

/// A class of lines: those every fund treats alike.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Class {
    pub category: Category,
    pub lethal: bool,
}

/// What a class's exact slack look-up found, valid until more money is spent.
#[derive(Debug, Clone)]
struct Look {
    slack: i64,
    spent_at: i64,
    epoch: u64,
    binding: Option<Arc<Binding>>,
}

struct Engine<'a> {
    funds: &'a [Fund],
    classes: Vec<Class>,
    /// Per fund, the classes it may pay for, as a bit set.
    allowed: Vec<u32>,
    /// s(T) for every class set T, as of the last flush.
    slack: Vec<i64>,
    /// Money funded per class since the last flush: applied to `slack` in one pass when an exact
    /// look-up needs it, rather than to half the table on every funded line.
    pending: Vec<i64>,
    spent: i64,
    epoch: u64,
    looks: Vec<Option<Look>>,
    /// Per class, the ranks funded so far (first, last, count).
    funded_ranks: Vec<Option<(u32, u32, u64)>>,
}

/// Funds `requirements` (in any order; ranks decide) from `funds`.
pub fn allocate(
    requirements: &[Requirement],
    funds: &[Fund],
) -> Result<Allocation, AllocationError> {
    for line in requirements {
        if line.unit_price <= 0 {
            return Err(AllocationError::NonPositivePrice {
                id: line.id.clone(),
            });
        }
    }
    if let Some(fund) = funds.iter().find(|f| f.amount < 0) {
        return Err(AllocationError::NegativeFund {
            id: fund.id.clone(),
        });
    }
    let mut engine = Engine::new(requirements, funds)?;
    let mut order: Vec<usize> = (0..requirements.len()).collect();
    order.sort_by_key(|&index| (requirements[index].rank, index));
    // Each line's class, found once (there are at most ALLOCATION_CLASSES_MAX classes).
    let class_of: Vec<usize> = requirements
        .iter()
        .map(|line| {
            let found = engine
                .classes
                .binary_search_by(|c| (&c.category, c.lethal).cmp(&(&line.category, line.lethal)));
            found.expect("every line's class is listed")
        })
        .collect();
    let mut outcomes: Vec<LineOutcome> = vec![
        LineOutcome {
            funded_quantity: 0,
            sources: Vec::new(),
            shortfall: None
        };
        requirements.len()
    ];
    let mut demand = vec![0i64; engine.classes.len()];
    for &index in &order {
        let line = &requirements[index];
        let class = class_of[index];
        let (funded, shortfall) = engine.fund(class, line);
        demand[class] += i64::try_from(u128::from(funded) * line.unit_price as u128)
            .expect("funded money fits the funds");
        outcomes[index] = LineOutcome {
            funded_quantity: funded,
            sources: Vec::new(),
            shortfall,
        };
    }
    let remaining = engine.pay(requirements, &order, &class_of, &demand, &mut outcomes);
    Ok(Allocation {
        lines: outcomes,
        remaining,
    })
}

impl<'a> Engine<'a> {
    fn new(requirements: &[Requirement], funds: &'a [Fund]) -> Result<Self, AllocationError> {
        let mut classes: Vec<Class> = requirements
            .iter()
            .map(|l| Class {
                category: l.category.clone(),
                lethal: l.lethal,
            })
            .collect();
        classes.sort();
        classes.dedup();
        if classes.len() > ALLOCATION_CLASSES_MAX {
            return Err(AllocationError::TooManyClasses(classes.len()));
        }
        let allowed: Vec<u32> = funds
            .iter()
            .map(|fund| {
                classes
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| fund.allows(&c.category, c.lethal))
                    .fold(0, |mask, (i, _)| mask | 1 << i)
            })
            .collect();
        let total: i64 = funds
            .iter()
            .try_fold(0i64, |sum, f| sum.checked_add(f.amount))
            .ok_or(AllocationError::TooMuchMoney)?;
        let sets = 1usize << classes.len();
        // within[U] = money of funds allowed only classes inside U (a sum over subsets).
        let mut within = vec![0i64; sets];
        for (fund, mask) in funds.iter().zip(&allowed) {
            within[*mask as usize] += fund.amount;
        }
        for bit in 0..classes.len() {
            for set in 0..sets {
                if set & (1 << bit) != 0 {
                    within[set] += within[set ^ (1 << bit)];
                }
            }
        }
        let full = sets - 1;
        // money(N(T)) = all money − money of funds allowed nothing in T.
        let slack = (0..sets).map(|set| total - within[full & !set]).collect();
        let count = classes.len();
        Ok(Self {
            funds,
            classes,
            allowed,
            slack,
            pending: vec![0; count],
            spent: 0,
            epoch: 0,
            looks: vec![None; count],
            funded_ranks: vec![None; count],
        })
    }

    /// The sets containing `class`, as contiguous runs of the slack table.
    fn runs(&self, class: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
        let block = 1usize << class;
        (0..self.slack.len())
            .step_by(block * 2)
            .map(move |start| start + block..start + 2 * block)
    }

    /// Applies the pending demands: s(T) −= Σ pending(c) for c in T, for every T.
    fn flush(&mut self) {
        if self.pending.iter().all(|p| *p == 0) {
            return;
        }
        let mut added = vec![0i64; self.slack.len()];
        for set in 1..added.len() {
            let lowest = set.trailing_zeros() as usize;
            added[set] = added[set & (set - 1)] + self.pending[lowest];
        }
        for (value, add) in self.slack.iter_mut().zip(&added) {
            *value -= add;
        }
        self.pending.fill(0);
    }

    /// The least slack of the sets containing `class`, exactly (after a flush).
    fn least_slack(&self, class: usize) -> i64 {
        self.runs(class)
            .map(|run| self.slack[run].iter().copied().min().unwrap_or(i64::MAX))
            .min()
            .unwrap_or(0)
    }

    fn look(&mut self, class: usize) -> Look {
        let fresh = self.looks[class]
            .as_ref()
            .filter(|look| look.epoch == self.epoch)
            .cloned();
        let look = match fresh {
            Some(look) => look,
            None => {
                self.flush();
                Look {
                    slack: self.least_slack(class),
                    spent_at: self.spent,
                    epoch: self.epoch,
                    binding: None,
                }
            }
        };
        self.looks[class] = Some(look.clone());
        look
    }

    /// Funds as many units of `line` as the money allows; returns them and, if short, why.
    fn fund(&mut self, class: usize, line: &Requirement) -> (u64, Option<Shortfall>) {
        let price = i128::from(line.unit_price);
        let wanted = price * i128::from(line.quantity);
        let (upper, lower) = match &self.looks[class] {
            Some(look) => (look.slack, look.slack - (self.spent - look.spent_at)),
            None => (i64::MAX, i64::MIN),
        };
        let funded = if wanted <= i128::from(lower) {
            line.quantity
        } else if price > i128::from(upper) {
            0
        } else {
            let slack = self.look(class).slack;
            u64::try_from((i128::from(slack) / price).min(i128::from(line.quantity)))
                .expect("non-negative")
        };
        if funded > 0 {
            let money = i64::try_from(price * i128::from(funded)).expect("at most the slack");
            self.pending[class] += money;
            self.spent += money;
            self.epoch += 1;
            let ranks = self.funded_ranks[class].get_or_insert((line.rank, line.rank, 0));
            ranks.1 = line.rank;
            ranks.2 += 1;
        }
        if funded == line.quantity {
            return (funded, None);
        }
        let binding = self.binding(class);
        let left = i128::from(self.look(class).slack);
        let more_money = price * i128::from(line.quantity - funded) - left;
        (
            funded,
            Some(Shortfall {
                binding,
                more_money,
            }),
        )
    }

    /// The tightest set of classes for `class` now, explained (cached until money is spent).
    fn binding(&mut self, class: usize) -> Arc<Binding> {
        let look = self.look(class);
        if let Some(binding) = look.binding {
            return binding;
        }
        self.flush();
        let tightest = self
            .runs(class)
            .flatten()
            .filter(|&set| self.slack[set] == look.slack)
            .min_by_key(|&set| (set.count_ones(), set))
            .unwrap_or(1 << class);
        let binding = Arc::new(reason::explain(self, class, tightest, look.slack));
        if let Some(cached) = self.looks[class].as_mut() {
            cached.binding = Some(Arc::clone(&binding));
        }
        binding
    }

    /// Turns the funded demands into payments: a max-flow from classes to funds, then each class's
    /// money split over its lines in rank order. Returns what is left in each fund.
    fn pay(
        &self,
        requirements: &[Requirement],
        order: &[usize],
        class_of: &[usize],
        demand: &[i64],
        outcomes: &mut [LineOutcome],
    ) -> Vec<i64> {
        let (classes, funds) = (self.classes.len(), self.funds.len());
        let (source, sink) = (classes + funds, classes + funds + 1);
        let mut network = flow::FlowNetwork::new(classes + funds + 2);
        for (class, money) in demand.iter().enumerate() {
            network.add_edge(source, class, i128::from(*money));
        }
        let mut links = Vec::new();
        for (fund, mask) in self.allowed.iter().enumerate() {
            for class in (0..classes).filter(|class| mask & (1 << class) != 0) {
                links.push((
                    class,
                    fund,
                    network.add_edge(class, classes + fund, i128::MAX / 4),
                ));
            }
        }
        for (fund, money) in self.funds.iter().enumerate() {
            network.add_edge(classes + fund, sink, i128::from(money.amount));
        }
        let flowed = network.max_flow(source, sink);
        assert_eq!(
            flowed,
            demand.iter().map(|d| i128::from(*d)).sum::<i128>(),
            "Hall's condition held at every step, so all demand is payable"
        );
        let mut paying: Vec<Vec<(usize, i64)>> = vec![Vec::new(); classes];
        let mut remaining: Vec<i64> = self.funds.iter().map(|f| f.amount).collect();
        for (class, fund, edge) in links {
            let money = i64::try_from(network.flow(edge)).expect("bounded by the fund");
            if money > 0 {
                paying[class].push((fund, money));
                remaining[fund] -= money;
            }
        }
        let mut cursor = vec![0usize; classes];
        for &index in order {
            let line = &requirements[index];
            let class = class_of[index];
            let mut owed = i64::try_from(
                u128::from(outcomes[index].funded_quantity) * line.unit_price as u128,
            )
            .expect("fits");
            while owed > 0 {
                let (fund, available) = &mut paying[class][cursor[class]];
                let take = owed.min(*available);
                outcomes[index].sources.push((*fund, take));
                *available -= take;
                owed -= take;
                if *available == 0 {
                    cursor[class] += 1;
                }
            }
        }
        remaining
    }
}

#[cfg(test)]
mod tests;

/// An allocation the coordinator committed to the ledger: what each line of an approved list
/// version got, from which pledges, and why not more.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommittedAllocation {
    /// Numbered in order of commitment, from 1.
    pub number: u32,
    pub period: crate::ids::Period,
    pub list_version: u32,
    pub on: chrono::NaiveDate,
    /// Whether committed money not yet received was counted.
    pub include_committed: bool,
    pub lines: Vec<CommittedLine>,
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommittedLine {
    pub line_id: String,
    /// Units still to fund when the allocation ran.
    pub wanted: u64,
    pub funded: u64,
    pub sources: Vec<CommittedSource>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommittedSource {
    pub pledge: crate::ids::Reference,
    pub usd: crate::money::Money,
}

//! Explaining a shortfall: the binding constraint, in words a coordinator can act on.

use super::{Class, Engine};

/// The tightest set of classes when a line was reached: the funds that may pay for any of them are
/// exhausted (down to `slack`) by the lines of those classes funded before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The line's own class.
    pub class: Class,
    /// The classes whose lines compete for the same money.
    pub classes: Vec<Class>,
    /// Indices of the funds that may pay for the line's class.
    pub funds: Vec<usize>,
    /// (first rank, last rank, lines) funded so far in the competing classes.
    pub funded_ranks: Option<(u32, u32, u64)>,
    /// Money left for the line's class, in minor units.
    pub slack: i64,
}

pub(super) fn explain(engine: &Engine<'_>, class: usize, tightest: usize, slack: i64) -> Binding {
    let members: Vec<usize> = (0..engine.classes.len())
        .filter(|c| tightest & (1 << c) != 0)
        .collect();
    let funds = engine
        .allowed
        .iter()
        .enumerate()
        .filter(|(_, mask)| *mask & (1 << class) != 0)
        .map(|(fund, _)| fund)
        .collect();
    let funded_ranks = members
        .iter()
        .filter_map(|c| engine.funded_ranks[*c])
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1), a.2 + b.2));
    Binding {
        class: engine.classes[class].clone(),
        classes: members.iter().map(|c| engine.classes[*c].clone()).collect(),
        funds,
        funded_ranks,
        slack,
    }
}

fn describe(class: &Class) -> String {
    format!(
        "{} ({})",
        class.category,
        if class.lethal { "lethal" } else { "non-lethal" }
    )
}

impl Binding {
    /// A sentence naming the constraint; `fund_ids` names funds by index, `money` formats minor
    /// units with the currency.
    pub fn sentence(
        &self,
        fund_ids: &dyn Fn(usize) -> String,
        money: &dyn Fn(i128) -> String,
        more: i128,
    ) -> String {
        format!(
            "{}{}",
            self.cause(fund_ids, money),
            self.remedy(money, more)
        )
    }

    /// The part of the sentence shared by every line this binding stops.
    pub fn cause(
        &self,
        fund_ids: &dyn Fn(usize) -> String,
        money: &dyn Fn(i128) -> String,
    ) -> String {
        let class = describe(&self.class);
        if self.funds.is_empty() {
            return format!("no fund may pay for {class}; ");
        }
        let mut named: Vec<String> = self.funds.iter().take(3).map(|f| fund_ids(*f)).collect();
        if self.funds.len() > 3 {
            named.push(format!("{} more", self.funds.len() - 3));
        }
        let competing = match self.classes.as_slice() {
            [only] if *only == self.class => String::new(),
            classes if classes.len() <= 3 => format!(
                " of {}",
                classes.iter().map(describe).collect::<Vec<_>>().join(", ")
            ),
            classes => format!(" of {} classes", classes.len()),
        };
        let exhausted_by = match self.funded_ranks {
            Some((first, last, _)) if first == last => format!("rank {first}{competing}"),
            Some((first, last, count)) => format!("{count} lines ranked {first}–{last}{competing}"),
            None => "nothing: there is too little of it".to_owned(),
        };
        format!(
            "the money that may pay for {class} (funds {}) is exhausted by {exhausted_by}, leaving {}; ",
            named.join(", "),
            money(i128::from(self.slack))
        )
    }

    /// The line's own part: how much more money of its kind would fund it.
    pub fn remedy(&self, money: &dyn Fn(i128) -> String, more: i128) -> String {
        format!("{}{}", money(more), self.remedy_tail())
    }

    /// What follows the amount in the remedy (the same for every line of this binding).
    pub fn remedy_tail(&self) -> String {
        let fully = if self.funds.is_empty() { "" } else { " fully" };
        format!(" more for {} would fund it{fully}", describe(&self.class))
    }
}

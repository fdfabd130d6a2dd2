//! Allocation on live data: the approved list of a period, still to be packaged, against the money
//! received and not yet given to a package (and, if asked, committed money not yet received).

use purl_core::allocation::{
    allocate, Allocation, CommittedAllocation, CommittedLine, CommittedSource, Fund, Requirement,
};
use purl_core::ids::{Period, Reference};
use purl_core::money::{Currency, Money};
use purl_core::pledge::PledgeStatus;
use purl_core::report::coverage::CoverageLine;
use purl_core::state::State;
use purl_core::user::Actor;
use purl_store::Store;
use serde::Serialize;

use crate::{App, AppError};

/// The inputs built from the ledger and the engine's result.
pub struct LivePreview {
    pub period: Period,
    pub list_version: u32,
    pub requirements: Vec<Requirement>,
    /// Item codes of the requirements, in the same order.
    pub items: Vec<String>,
    /// The approved quantity of each requirement (its `quantity` is what packages left of it).
    pub wanted: Vec<u64>,
    pub funds: Vec<Fund>,
    pub allocation: Allocation,
    /// What was left out and why (pledges earmarked to one package, ...).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PreviewOptions {
    /// Count committed money not yet received, at today's rate.
    pub include_committed: bool,
}

impl<S: Store> App<S> {
    /// Previews the allocation of `period`'s approved list (default: the latest approved list).
    /// Only the coordinator (or the operator) may see every pledge this needs.
    pub async fn preview_allocation(
        &self,
        actor: &Actor,
        period: Option<Period>,
        options: PreviewOptions,
    ) -> Result<LivePreview, AppError> {
        if !purl_core::policy::allows(actor, &purl_core::policy::Action::ManagePackages) {
            return Err(AppError::Denied);
        }
        let state = self.state().await?;
        let list = match period {
            Some(period) => state
                .lists
                .get(&period)
                .ok_or_else(|| AppError::NotFound(format!("list '{period}' does not exist")))?,
            None => state
                .lists
                .values()
                .rev()
                .find(|l| l.approved().is_some())
                .ok_or_else(|| AppError::NotFound("no list has an approved version".into()))?,
        };
        let version = list.approved().ok_or_else(|| {
            AppError::Invalid(format!("list {} has no approved version", list.period))
        })?;
        let ListLines {
            requirements,
            items,
            wanted,
        } = requirements(&state, list.period, version)?;
        let (funds, notes) = funds(&state, options, self.today())?;
        let allocation =
            allocate(&requirements, &funds).map_err(|e| AppError::Invalid(e.to_string()))?;
        Ok(LivePreview {
            period: list.period,
            list_version: version.number,
            requirements,
            items,
            wanted,
            funds,
            allocation,
            notes,
        })
    }
}

/// The approved version's lines as the allocation takes them.
struct ListLines {
    /// Less what active packages already took.
    requirements: Vec<Requirement>,
    items: Vec<String>,
    /// The approved quantities.
    wanted: Vec<u64>,
}

/// The approved version's lines, less what active packages already took.
fn requirements(
    state: &State,
    period: Period,
    version: &purl_core::list::ListVersion,
) -> Result<ListLines, AppError> {
    let mut requirements = Vec::new();
    let mut items = Vec::new();
    let mut wanted = Vec::new();
    for (index, line) in version.lines.iter().enumerate() {
        let item = state
            .items
            .get(&line.item)
            .ok_or_else(|| AppError::NotFound(format!("item '{}' does not exist", line.item)))?;
        let packaged: u64 = state
            .packages
            .values()
            .filter(|p| p.status.is_active())
            .flat_map(|p| &p.lines)
            .filter(|l| l.period == period && l.line_id == line.id)
            .map(|l| l.quantity)
            .sum();
        requirements.push(Requirement {
            id: line.id.clone(),
            rank: u32::try_from(index + 1).expect("bounded by LIST_LINES_MAX"),
            category: item.category.clone(),
            lethal: item.lethal,
            unit_price: item.unit_price.minor(),
            quantity: line.quantity.saturating_sub(packaged),
        });
        items.push(item.code.to_string());
        wanted.push(line.quantity);
    }
    Ok(ListLines {
        requirements,
        items,
        wanted,
    })
}

/// One fund per pledge with money left: received, less what packages already hold, plus, if asked,
/// committed money not yet received — counted in the pledge's currency and valued at today's
/// recorded rate, rounded down, exactly as a contribution to a package is valued, so that the
/// packages formed from the allocation never need more of a pledge than it has.
fn funds(
    state: &State,
    options: PreviewOptions,
    today: chrono::NaiveDate,
) -> Result<(Vec<Fund>, Vec<String>), AppError> {
    let invalid = |e: &dyn std::fmt::Display| AppError::Invalid(e.to_string());
    let mut funds = Vec::new();
    let mut notes = Vec::new();
    for pledge in state
        .pledges
        .values()
        .filter(|p| !p.is_share() && p.status != PledgeStatus::Withdrawn)
    {
        let Some(currency) = pledge.currency else {
            continue;
        };
        let received: i64 = state
            .payments
            .values()
            .filter(|p| p.pledge == pledge.reference)
            .map(|p| p.amount.minor())
            .sum();
        let given: i64 = state
            .packages
            .values()
            .filter(|p| p.status.is_active())
            .flat_map(|p| &p.contributions)
            .filter(|c| c.pledge == pledge.reference)
            .map(|c| c.amount.minor())
            .sum();
        let mut available = received;
        if options.include_committed && pledge.status == PledgeStatus::Committed {
            if let Some(amount) = pledge.amount {
                available = available.max(amount.minor());
            }
        }
        available -= given;
        if available <= 0 {
            continue;
        }
        if let Some(package) = pledge.earmark.package {
            notes.push(format!(
                "pledge {} is earmarked for package {package} and is left out",
                pledge.reference
            ));
            continue;
        }
        let money = Money::from_minor(available, currency).map_err(|e| invalid(&e))?;
        let mut usd = state
            .fx
            .to_usd(money, today)
            .map_err(|e| invalid(&e))?
            .usd
            .minor();
        let worth = |usd: i64| -> Result<i64, AppError> {
            let usd = Money::from_minor(usd, Currency::USD).map_err(|e| invalid(&e))?;
            Ok(state
                .fx
                .least_worth(usd, currency, today)
                .map_err(|e| invalid(&e))?
                .minor())
        };
        while usd > 0 && worth(usd)? > available {
            usd -= 1;
        }
        if usd <= 0 {
            continue;
        }
        funds.push(Fund {
            id: pledge.reference.to_string(),
            contributor: pledge
                .contributors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(";"),
            amount: usd,
            categories: pledge.earmark.categories.clone(),
            lethal_allowed: pledge.earmark.lethal_allowed,
        });
    }
    Ok((funds, notes))
}

impl LivePreview {
    /// The preview as JSON, the same for the command line and the API (amounts in USD).
    pub fn to_json(&self, written: Option<&crate::Written>) -> serde_json::Value {
        let amount = |minor: i64| purl_core::money::format_minor(i128::from(minor), 2);
        let lines: Vec<serde_json::Value> = self
            .requirements
            .iter()
            .zip(&self.allocation.lines)
            .enumerate()
            .map(|(index, (line, outcome))| {
                serde_json::json!({
                    "id": line.id,
                    "rank": line.rank,
                    "item": self.items[index],
                    "category": line.category,
                    "lethal": line.lethal,
                    "wanted_quantity": line.quantity,
                    "funded_quantity": outcome.funded_quantity,
                    "sources": outcome.sources.iter().map(|(fund, minor)| serde_json::json!({
                        "fund": self.funds[*fund].id,
                        "amount": amount(*minor),
                    })).collect::<Vec<_>>(),
                    "reason": self.reason(index),
                })
            })
            .collect();
        let funds: Vec<serde_json::Value> = self
            .funds
            .iter()
            .zip(&self.allocation.remaining)
            .map(|(fund, remaining)| {
                serde_json::json!({
                    "id": fund.id,
                    "contributor": fund.contributor,
                    "available": amount(fund.amount),
                    "remaining": amount(*remaining),
                })
            })
            .collect();
        serde_json::json!({
            "period": self.period,
            "list_version": self.list_version,
            "currency": "USD",
            "lines": lines,
            "funds": funds,
            "notes": self.notes,
            "written": written,
        })
    }

    /// The reason of line `index` in words, if it is not fully funded (USD amounts).
    pub fn reason(&self, index: usize) -> Option<String> {
        let money = |minor: i128| format!("{} USD", purl_core::money::format_minor(minor, 2));
        self.allocation.lines[index].shortfall.as_ref().map(|s| {
            s.binding
                .sentence(&|f| self.funds[f].id.clone(), &money, s.more_money)
        })
    }

    /// The coverage report (design §7) of this preview: units in packages plus units allocated,
    /// against the approved quantities.
    pub fn coverage(&self) -> Result<purl_core::report::coverage::Coverage, AppError> {
        let lines: Vec<CoverageLine> = self
            .requirements
            .iter()
            .zip(&self.allocation.lines)
            .enumerate()
            .map(|(index, (line, outcome))| CoverageLine {
                rank: line.rank,
                line_id: line.id.clone(),
                item: self.items[index].clone(),
                category: line.category.clone(),
                unit_price: line.unit_price,
                wanted: self.wanted[index],
                packaged: self.wanted[index].saturating_sub(line.quantity),
                allocated: outcome.funded_quantity,
                reason: self.reason(index),
            })
            .collect();
        Ok(purl_core::report::coverage::coverage(
            self.period,
            self.list_version,
            &lines,
        )?)
    }

    /// The preview as the record the ledger keeps.
    pub fn to_committed(&self, include_committed: bool) -> Result<CommittedAllocation, AppError> {
        let mut lines = Vec::with_capacity(self.requirements.len());
        for (index, (line, outcome)) in self
            .requirements
            .iter()
            .zip(&self.allocation.lines)
            .enumerate()
        {
            let sources = outcome
                .sources
                .iter()
                .map(|(fund, minor)| {
                    let pledge = Reference::parse(&self.funds[*fund].id)
                        .map_err(|e| AppError::Invalid(e.to_string()))?;
                    let usd = Money::from_minor(*minor, Currency::USD)
                        .map_err(|e| AppError::Invalid(e.to_string()))?;
                    Ok(CommittedSource { pledge, usd })
                })
                .collect::<Result<Vec<_>, AppError>>()?;
            lines.push(CommittedLine {
                line_id: line.id.clone(),
                wanted: line.quantity,
                funded: outcome.funded_quantity,
                sources,
                reason: self.reason(index),
            });
        }
        Ok(CommittedAllocation {
            number: 0,
            period: self.period,
            list_version: self.list_version,
            on: chrono::NaiveDate::MIN,
            include_committed,
            lines,
            version: 0,
        })
    }
}

impl<S: Store> App<S> {
    /// Runs the allocation on the installation and records it in the ledger.
    pub async fn commit_allocation(
        &self,
        actor: &Actor,
        period: Option<Period>,
        options: PreviewOptions,
    ) -> Result<(LivePreview, crate::Written), AppError> {
        let preview = self.preview_allocation(actor, period, options).await?;
        let allocation = preview.to_committed(options.include_committed)?;
        let request = format!(
            "commit allocation {} v{} at head {}",
            preview.period,
            preview.list_version,
            self.store().head().await?
        );
        let written = self
            .execute(
                actor,
                purl_core::command::Command::CommitAllocation { allocation },
                crate::WriteOptions {
                    request,
                    ..Default::default()
                },
            )
            .await?;
        Ok((preview, written))
    }
}

/// The packages formed from a committed allocation.
#[derive(Debug, Clone, Serialize)]
pub struct FormedPackages {
    pub allocation: u32,
    pub packages: Vec<FormedPackage>,
    pub written: crate::Written,
}

#[derive(Debug, Clone, Serialize)]
pub struct FormedPackage {
    pub number: u32,
    /// USD.
    pub value: Money,
    pub lines: Vec<FormedLine>,
    /// Each in the pledge's currency, the least amount worth its USD share at today's rate.
    pub contributions: Vec<FormedContribution>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FormedLine {
    pub line_id: String,
    pub quantity: u64,
    pub value: Money,
}

#[derive(Debug, Clone, Serialize)]
pub struct FormedContribution {
    pub pledge: Reference,
    pub usd: Money,
    pub amount: Money,
    /// The pledge's national conditions, which travel with its money.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub conditions: String,
}

/// The default value packages are formed up to: USD 500 million.
pub const PACKAGE_TARGET_USD_MINOR: i64 = 500_000_000 * 100;

impl<S: Store> App<S> {
    /// Forms packages from committed allocation `number` (default: the latest): its funded lines in
    /// rank order, cut at `target` USD minor units per package, each with the money the allocation
    /// assigned to its units (converted to the pledge's currency at today's recorded rate). All
    /// packages are written in one batch, or none.
    pub async fn form_packages(
        &self,
        actor: &Actor,
        number: Option<u32>,
        target: i64,
        idempotency_key: Option<String>,
    ) -> Result<FormedPackages, AppError> {
        use purl_core::command::Command;
        if target <= 0 {
            return Err(AppError::Invalid(
                "target: must be a positive amount of USD".into(),
            ));
        }
        let state = self.state().await?;
        let allocation = match number {
            Some(number) => state.allocations.get(&number),
            None => state.allocations.values().next_back(),
        }
        .ok_or_else(|| {
            AppError::NotFound(match number {
                Some(number) => format!("allocation '{number}' does not exist"),
                None => "no allocation has been committed yet".into(),
            })
        })?;
        let version = state
            .lists
            .get(&allocation.period)
            .and_then(|list| list.get_version(allocation.list_version))
            .ok_or_else(|| {
                AppError::NotFound(format!(
                    "list {} v{} does not exist",
                    allocation.period, allocation.list_version
                ))
            })?;
        let unit_prices = version
            .lines
            .iter()
            .filter_map(|line| {
                let item = state.items.get(&line.item)?;
                Some((line.id.clone(), item.unit_price.minor()))
            })
            .collect();
        let plans =
            purl_core::allocation::packaging::form_packages(allocation, &unit_prices, target)?;
        let first_number = state.packages.keys().next_back().map_or(1, |last| last + 1);
        let today = self.today();
        let usd = |minor: i64| {
            Money::from_minor(minor, Currency::USD).map_err(|e| AppError::Invalid(e.to_string()))
        };
        let mut commands = Vec::new();
        let mut formed = Vec::new();
        for (offset, plan) in plans.iter().enumerate() {
            let package = first_number + u32::try_from(offset).unwrap_or(u32::MAX);
            let name = format!(
                "Package {package} (allocation {}, {} v{})",
                allocation.number, allocation.period, allocation.list_version
            );
            commands.push(Command::CreatePackage {
                name: purl_core::ids::Name::parse(&name)
                    .map_err(|e| AppError::Invalid(e.to_string()))?,
            });
            let mut lines = Vec::new();
            for line in &plan.lines {
                commands.push(Command::AddPackageLine {
                    number: package,
                    period: allocation.period,
                    line_id: line.line_id.clone(),
                    quantity: line.quantity,
                });
                lines.push(FormedLine {
                    line_id: line.line_id.clone(),
                    quantity: line.quantity,
                    value: usd(line.value)?,
                });
            }
            let mut contributions = Vec::new();
            for (pledge, share) in &plan.contributions {
                let found = state.pledges.get(pledge).ok_or_else(|| {
                    AppError::NotFound(format!("pledge '{pledge}' does not exist"))
                })?;
                let currency = found
                    .currency
                    .ok_or_else(|| AppError::Invalid(format!("pledge {pledge} has no currency")))?;
                let amount = state
                    .fx
                    .least_worth(usd(*share)?, currency, today)
                    .map_err(|e| AppError::Invalid(e.to_string()))?;
                commands.push(Command::AllocateContribution {
                    number: package,
                    pledge: pledge.clone(),
                    amount,
                });
                contributions.push(FormedContribution {
                    pledge: pledge.clone(),
                    usd: usd(*share)?,
                    amount,
                    conditions: found.conditions.as_str().to_owned(),
                });
            }
            formed.push(FormedPackage {
                number: package,
                value: usd(plan.value)?,
                lines,
                contributions,
            });
        }
        if commands.is_empty() {
            return Err(AppError::Invalid(format!(
                "allocation {} funds no line: there is nothing to package",
                allocation.number
            )));
        }
        let options = crate::WriteOptions {
            idempotency_key,
            request: crate::idempotency::describe(&serde_json::json!({ "form_packages": {
                "allocation": allocation.number,
                "up_to": target.to_string(),
            }})),
            expected_version: None,
        };
        let written = self.execute_all(actor, commands, options).await?;
        if written.replayed {
            // The first answer listed the packages; numbering them again now would be wrong.
            formed.clear();
        }
        Ok(FormedPackages {
            allocation: allocation.number,
            packages: formed,
            written,
        })
    }
}

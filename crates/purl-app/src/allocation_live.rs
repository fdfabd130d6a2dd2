//! Allocation on live data: the approved list of a period, still to be packaged, against the money
//! received and not yet given to a package (and, if asked, committed money not yet received).

use purl_core::allocation::{
    allocate, Allocation, CommittedAllocation, CommittedLine, CommittedSource, Fund, Requirement,
};
use purl_core::ids::{Period, Reference};
use purl_core::money::{Currency, Money};
use purl_core::pledge::PledgeStatus;
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
        let state = self.load_state().await?;
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
        let (requirements, items) = requirements(&state, list.period, version)?;
        let (funds, notes) = funds(&state, options, self.today())?;
        let allocation =
            allocate(&requirements, &funds).map_err(|e| AppError::Invalid(e.to_string()))?;
        Ok(LivePreview {
            period: list.period,
            list_version: version.number,
            requirements,
            items,
            funds,
            allocation,
            notes,
        })
    }
}

/// The approved version's lines, less what active packages already took.
fn requirements(
    state: &State,
    period: Period,
    version: &purl_core::list::ListVersion,
) -> Result<(Vec<Requirement>, Vec<String>), AppError> {
    let mut requirements = Vec::new();
    let mut items = Vec::new();
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
    }
    Ok((requirements, items))
}

/// One fund per pledge with money left: received (in USD at each payment's recorded rate), less
/// what packages already hold, plus, if asked, committed money not yet received at today's rate.
fn funds(
    state: &State,
    options: PreviewOptions,
    today: chrono::NaiveDate,
) -> Result<(Vec<Fund>, Vec<String>), AppError> {
    let mut funds = Vec::new();
    let mut notes = Vec::new();
    for pledge in state
        .pledges
        .values()
        .filter(|p| !p.is_share() && p.status != PledgeStatus::Withdrawn)
    {
        let received: i64 = state
            .payments
            .values()
            .filter(|p| p.pledge == pledge.reference)
            .map(|p| p.conversion.usd.minor())
            .sum();
        let given: i64 = state
            .packages
            .values()
            .filter(|p| p.status.is_active())
            .flat_map(|p| &p.contributions)
            .filter(|c| c.pledge == pledge.reference)
            .map(|c| c.conversion.usd.minor())
            .sum();
        let mut available = (received - given).max(0);
        if options.include_committed && pledge.status == PledgeStatus::Committed {
            if let (Some(amount), paid) = (pledge.amount, pledge.paid.map_or(0, Money::minor)) {
                let unpaid = Money::from_minor(amount.minor() - paid, amount.currency())
                    .map_err(|e| AppError::Invalid(e.to_string()))?;
                let converted = state
                    .fx
                    .to_usd(unpaid, today)
                    .map_err(|e| AppError::Invalid(e.to_string()))?;
                available += converted.usd.minor();
            }
        }
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
        funds.push(Fund {
            id: pledge.reference.to_string(),
            contributor: pledge
                .contributors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(";"),
            amount: available,
            categories: pledge.earmark.categories.clone(),
            lethal_allowed: pledge.earmark.lethal_allowed,
        });
    }
    Ok((funds, notes))
}

impl LivePreview {
    /// The reason of line `index` in words, if it is not fully funded (USD amounts).
    pub fn reason(&self, index: usize) -> Option<String> {
        let money = |minor: i128| format!("{} USD", purl_core::money::format_minor(minor, 2));
        self.allocation.lines[index].shortfall.as_ref().map(|s| {
            s.binding
                .sentence(&|f| self.funds[f].id.clone(), &money, s.more_money)
        })
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

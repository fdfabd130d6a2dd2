//! Exports in the shape of the imports: the pledges, payments, exchange rates, GDP figures or a
//! requirement list a reader may see in full, as the rows `purl import` takes back. What the reader
//! may not see is left out and the workbook's About sheet says so.

use chrono::NaiveDate;
use purl_core::access::{self, Scope, Visibility};
use purl_core::ids::Period;
use purl_core::limits::RATE_DECIMALS_MAX;
use purl_core::money::{Money, Ratio};
use purl_core::state::State;
use purl_store::Store;

use crate::access_log::{Outcome, Reader};
use crate::import::template;
use crate::import::ImportKind;
use crate::workbook::{Book, Cell};
use crate::{App, AppError};

fn amount(money: Option<Money>) -> Cell {
    money.map_or(Cell::Empty, |m| Cell::Decimal(m.amount_string()))
}

/// Values separated by `;`, as the imports take lists in one cell.
pub(crate) fn joined<T: ToString>(values: impl IntoIterator<Item = T>) -> String {
    values
        .into_iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(";")
}

/// A rate as an exact decimal where one exists within the import's precision, else as `n/d`.
pub fn exact_rate(rate: Ratio) -> String {
    let mut denominator = rate.denominator();
    let (mut twos, mut fives) = (0u32, 0u32);
    while denominator.is_multiple_of(2) {
        denominator /= 2;
        twos += 1;
    }
    while denominator.is_multiple_of(5) {
        denominator /= 5;
        fives += 1;
    }
    let decimals = twos.max(fives);
    if denominator == 1 && decimals <= RATE_DECIMALS_MAX {
        rate.to_decimal_string(decimals)
    } else {
        rate.to_string()
    }
}

/// The rows of `kind` the scope sees in full, and what was left out.
fn rows(
    state: &State,
    scope: &Scope,
    kind: ImportKind,
) -> Result<(Vec<Vec<Cell>>, Option<&'static str>), AppError> {
    let reference_data = access::reference_data(scope) == Visibility::Full;
    let out = match kind {
        ImportKind::Pledges => {
            let rows = state
                .pledges
                .values()
                .filter(|p| access::pledge(scope, p) == Visibility::Full)
                .map(|p| {
                    vec![
                        Cell::text(p.reference.as_str()),
                        Cell::text(joined(&p.contributors)),
                        amount(p.amount),
                        Cell::optional_text(p.currency.map(|c| c.code())),
                        Cell::Date(p.announced_on),
                        Cell::text(p.status.as_str()),
                        Cell::optional_text(p.part_of.as_ref().map(|r| r.as_str())),
                        Cell::text(p.earmark.categories.as_ref().map_or(String::new(), joined)),
                        Cell::Bool(p.earmark.lethal_allowed),
                        p.earmark.package.map_or(Cell::Empty, Cell::decimal),
                        Cell::text(p.conditions.as_str()),
                        Cell::Bool(p.public),
                        Cell::text(p.note.as_str()),
                    ]
                })
                .collect();
            let left_out = (*scope != Scope::Everything).then_some(
                "pledges of other contributors (those announced publicly are in the public pledges)",
            );
            (rows, left_out)
        }
        ImportKind::Payments => {
            let rows = state
                .payments
                .values()
                .filter(|p| access::payment(scope, state, p) == Visibility::Full)
                .map(|p| {
                    vec![
                        Cell::text(p.pledge.as_str()),
                        amount(Some(p.amount)),
                        Cell::text(p.amount.currency().code()),
                        Cell::Date(p.received_on),
                        Cell::text(p.note.as_str()),
                    ]
                })
                .collect();
            let left_out = (*scope != Scope::Everything)
                .then_some("payments against pledges of other contributors");
            (rows, left_out)
        }
        ImportKind::Fx if reference_data => {
            let rows = state
                .fx
                .iter()
                .map(|rate| {
                    vec![
                        Cell::Date(rate.date),
                        Cell::text(rate.currency.code()),
                        Cell::Decimal(exact_rate(rate.usd_per_unit)),
                        Cell::text(&rate.source),
                    ]
                })
                .collect();
            (rows, None)
        }
        ImportKind::Gdp if reference_data => {
            let rows = state
                .gdp
                .iter()
                .map(|figure| {
                    vec![
                        Cell::text(&figure.country),
                        Cell::decimal(figure.year),
                        Cell::decimal(figure.usd.minor() / 100),
                        Cell::text(&figure.source),
                    ]
                })
                .collect();
            (rows, None)
        }
        ImportKind::Requirements { period } => {
            let list = state
                .lists
                .get(&period)
                .filter(|_| access::list(scope) == Visibility::Full)
                .ok_or_else(|| list_not_found(period))?;
            let rows = (1u32..)
                .zip(&list.latest().lines)
                .map(|(rank, line)| {
                    let item = state.items.get(&line.item);
                    vec![
                        Cell::decimal(rank),
                        Cell::text(line.item.as_str()),
                        Cell::optional_text(item.map(|i| i.name.as_str().to_owned())),
                        Cell::optional_text(item.map(|i| i.category.to_string())),
                        item.map_or(Cell::Empty, |i| Cell::Bool(i.lethal)),
                        amount(item.map(|i| i.unit_price)),
                        Cell::decimal(line.quantity),
                        Cell::Date(line.needed_by),
                        Cell::text(line.justification.as_str()),
                    ]
                })
                .collect();
            (rows, None)
        }
        ImportKind::Fx | ImportKind::Gdp => {
            return Err(AppError::NotFound(
                "the reference data does not exist".into(),
            ))
        }
    };
    Ok(out)
}

fn list_not_found(period: Period) -> AppError {
    AppError::NotFound(format!("list '{period}' does not exist"))
}

fn what(kind: ImportKind) -> String {
    match kind {
        ImportKind::Pledges => "pledges".into(),
        ImportKind::Payments => "payments".into(),
        ImportKind::Fx => "exchange rates (USD per unit of each currency)".into(),
        ImportKind::Gdp => "GDP per country per year, in current US dollars".into(),
        ImportKind::Requirements { period } => {
            format!("requirement list {period}, its latest version, in rank order")
        }
    }
}

impl<S: Store> App<S> {
    /// The rows of `kind` the reader may see in full, as a workbook in the import's shape with an
    /// About sheet (as of, rows, what was left out). Confidential exports are logged.
    pub async fn export(
        &self,
        reader: &Reader<'_>,
        kind: ImportKind,
        as_of: NaiveDate,
    ) -> Result<Book, AppError> {
        let state = self.state().await?;
        let scope = Scope::of(reader.actor);
        let action = format!("export {}", kind.name());
        let (rows, left_out) = match rows(&state, &scope, kind) {
            Ok(found) => found,
            Err(error) => {
                if reader.actor.is_some() {
                    self.log_access(reader, action, Outcome::NotFound, 0)
                        .await?;
                }
                return Err(error);
            }
        };
        let confidential = matches!(
            kind,
            ImportKind::Pledges | ImportKind::Payments | ImportKind::Requirements { .. }
        );
        if confidential {
            self.log_access(reader, action, Outcome::Allowed, rows.len() as u64)
                .await?;
        }
        let about = vec![
            ("what".to_owned(), what(kind)),
            ("as of".to_owned(), format!("{as_of} (ledger event {})", state.head)),
            ("exported for".to_owned(), reader.name()),
            ("rows".to_owned(), rows.len().to_string()),
            (
                "money".to_owned(),
                "amounts in the currency of the row, exactly as recorded (minor units); US dollars for unit prices and GDP".to_owned(),
            ),
            (
                "left out".to_owned(),
                left_out.map_or("nothing".to_owned(), |what| {
                    format!("{what}: you may not see them in full")
                }),
            ),
            (
                "import again".to_owned(),
                format!(
                    "purl import {} FILE.xlsx — this sheet is in the import's shape",
                    kind.name()
                ),
            ),
        ];
        Ok(template::book(kind, rows, about))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_is_a_decimal_where_one_is_exact() {
        let rate = |n, d| Ratio::new(n, d).unwrap();
        assert_eq!(exact_rate(rate(10824, 10000)), "1.0824");
        assert_eq!(exact_rate(rate(1, 8)), "0.125");
        assert_eq!(exact_rate(rate(10000, 10823)), "10000/10823");
        assert_eq!(exact_rate(rate(3, 1)), "3");
        assert_eq!(exact_rate(rate(1, 1024)), "0.0009765625");
        assert_eq!(
            exact_rate(rate(1, 8192)),
            "1/8192",
            "beyond the import's 12 decimals a rate stays a fraction"
        );
    }
}

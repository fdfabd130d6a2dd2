//! Reads, for every entry point: each record passes the need-to-know policy of the core before it is
//! answered, lists are filtered before they are paged, a record the reader may not see is answered
//! exactly like a missing one, and reads of confidential data and denials go into the access log.

use purl_core::access::{self, Scope, Visibility};
use purl_core::ids::{ItemCode, ParticipantCode, Period, Reference, Username};
use purl_core::state::State;
use purl_store::Store;
use serde::Serialize;
use serde_json::Value;

use crate::access_log::{Outcome, Reader};
use crate::{App, AppError};

/// A page of a list: `offset` rows skipped, at most `limit` returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: usize,
    pub limit: usize,
}

impl Default for Page {
    fn default() -> Self {
        Self {
            offset: 0,
            limit: PAGE_LIMIT_DEFAULT,
        }
    }
}

pub const PAGE_LIMIT_DEFAULT: usize = 100;
pub const PAGE_LIMIT_MAX: usize = 1000;

/// One page of what the reader may see.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Listed {
    pub items: Vec<Value>,
    /// Rows the reader may see in all.
    pub total: usize,
    /// The offset of the next page, if there is one.
    pub next_offset: Option<usize>,
}

/// One record as the reader may see it, with the version an update must name.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub body: Value,
    pub version: u64,
}

/// A row of a list: what the reader may see of it, and whether that is confidential.
struct Row {
    body: Value,
    confidential: bool,
}

/// What a single read found.
enum Lookup {
    Missing,
    Hidden,
    Seen {
        body: Value,
        version: u64,
        confidential: bool,
    },
}

fn json(value: &impl Serialize) -> Value {
    serde_json::to_value(value).expect("records serialise to JSON")
}

fn row(
    visibility: Visibility,
    full: impl FnOnce() -> Value,
    summary: impl FnOnce() -> Value,
) -> Option<Row> {
    match visibility {
        Visibility::Full => Some(Row {
            body: full(),
            confidential: true,
        }),
        Visibility::Summary => Some(Row {
            body: summary(),
            confidential: false,
        }),
        Visibility::Hidden => None,
    }
}

fn lookup(found: Option<Row>, exists: bool, version: u64) -> Lookup {
    match (found, exists) {
        (_, false) => Lookup::Missing,
        (None, true) => Lookup::Hidden,
        (Some(row), true) => Lookup::Seen {
            body: row.body,
            version,
            confidential: row.confidential,
        },
    }
}

/// A requirement list in full, each line with its rank.
fn list_in_full(list: &purl_core::list::RequirementList) -> Value {
    let mut value = json(list);
    if let Some(versions) = value.get_mut("versions").and_then(Value::as_array_mut) {
        for version in versions {
            if let Some(lines) = version.get_mut("lines").and_then(Value::as_array_mut) {
                for (rank, line) in (1u32..).zip(lines.iter_mut()) {
                    if let Some(object) = line.as_object_mut() {
                        object.insert("rank".into(), rank.into());
                    }
                }
            }
        }
    }
    value
}

fn list_row(state: &State, scope: &Scope, list: &purl_core::list::RequirementList) -> Option<Row> {
    row(
        access::list(scope),
        || list_in_full(list),
        || match scope {
            Scope::Contributor(code) => json(&access::list_summary(state, code, list)),
            _ => Value::Null,
        },
    )
    .map(|row| Row {
        confidential: true,
        ..row
    })
}

fn pledge_row(scope: &Scope, pledge: &purl_core::pledge::Pledge) -> Option<Row> {
    row(
        access::pledge(scope, pledge),
        || json(pledge),
        || json(&access::PublicPledge::from(pledge)),
    )
}

fn package_row(state: &State, scope: &Scope, package: &purl_core::package::Package) -> Option<Row> {
    row(
        access::package(scope, state, package),
        || json(&access::PackageInFull::of(scope, state, package)),
        || json(&access::PackageSummary::from(package)),
    )
}

fn full_only(visibility: Visibility, value: impl FnOnce() -> Value) -> Option<Row> {
    row(visibility, value, || Value::Null)
}

impl<S: Store> App<S> {
    async fn read_many(
        &self,
        reader: &Reader<'_>,
        what: &str,
        page: Page,
        rows: impl FnOnce(&State, &Scope) -> Vec<Row>,
    ) -> Result<Listed, AppError> {
        let state = self.state().await?;
        let scope = Scope::of(reader.actor);
        let all = rows(&state, &scope);
        let total = all.len();
        let limit = page.limit.clamp(1, PAGE_LIMIT_MAX);
        let shown: Vec<Row> = all.into_iter().skip(page.offset).take(limit).collect();
        let next_offset = (page.offset + shown.len() < total).then_some(page.offset + shown.len());
        if shown.iter().any(|row| row.confidential) {
            self.log_access(
                reader,
                format!("list {what}"),
                Outcome::Allowed,
                shown.len() as u64,
            )
            .await?;
        }
        Ok(Listed {
            items: shown.into_iter().map(|row| row.body).collect(),
            total,
            next_offset,
        })
    }

    async fn read_one(
        &self,
        reader: &Reader<'_>,
        what: &str,
        id: &str,
        find: impl FnOnce(&State, &Scope) -> Lookup,
    ) -> Result<Found, AppError> {
        let state = self.state().await?;
        let scope = Scope::of(reader.actor);
        let action = format!("read {what} {id}");
        match find(&state, &scope) {
            Lookup::Seen {
                body,
                version,
                confidential,
            } => {
                if confidential {
                    self.log_access(reader, action, Outcome::Allowed, 1).await?;
                }
                Ok(Found { body, version })
            }
            outcome @ (Lookup::Missing | Lookup::Hidden) => {
                let logged = if matches!(outcome, Lookup::Hidden) {
                    Outcome::Denied
                } else {
                    Outcome::NotFound
                };
                if reader.actor.is_some() {
                    self.log_access(reader, action, logged, 0).await?;
                }
                Err(AppError::NotFound(format!("{what} '{id}' does not exist")))
            }
        }
    }

    pub async fn participants(&self, reader: &Reader<'_>, page: Page) -> Result<Listed, AppError> {
        self.read_many(reader, "participants", page, |state, scope| {
            let visibility = access::reference_data(scope);
            state
                .participants
                .values()
                .filter_map(|p| full_only(visibility, || json(p)))
                .map(|row| Row {
                    confidential: false,
                    ..row
                })
                .collect()
        })
        .await
    }

    pub async fn participant(&self, reader: &Reader<'_>, code: &str) -> Result<Found, AppError> {
        self.read_one(reader, "participant", code, |state, scope| {
            let found = ParticipantCode::parse(code)
                .ok()
                .and_then(|code| state.participants.get(&code));
            let row = found.and_then(|p| full_only(access::reference_data(scope), || json(p)));
            match lookup(row, found.is_some(), found.map_or(0, |p| p.version)) {
                Lookup::Seen { body, version, .. } => Lookup::Seen {
                    body,
                    version,
                    confidential: false,
                },
                other => other,
            }
        })
        .await
    }

    pub async fn users(&self, reader: &Reader<'_>, page: Page) -> Result<Listed, AppError> {
        self.read_many(reader, "users", page, |state, _| {
            state
                .users
                .values()
                .filter_map(|u| full_only(access::user(reader.actor, u), || json(u)))
                .collect()
        })
        .await
    }

    pub async fn user(&self, reader: &Reader<'_>, username: &str) -> Result<Found, AppError> {
        self.read_one(reader, "user", username, |state, _| {
            let found = Username::parse(username)
                .ok()
                .and_then(|name| state.users.get(&name));
            let row = found.and_then(|u| full_only(access::user(reader.actor, u), || json(u)));
            lookup(row, found.is_some(), found.map_or(0, |u| u.version))
        })
        .await
    }

    pub async fn items(&self, reader: &Reader<'_>, page: Page) -> Result<Listed, AppError> {
        self.read_many(reader, "catalogue items", page, |state, scope| {
            let visibility = access::reference_data(scope);
            state
                .items
                .values()
                .filter_map(|item| full_only(visibility, || json(item)))
                .collect()
        })
        .await
    }

    pub async fn item(&self, reader: &Reader<'_>, code: &str) -> Result<Found, AppError> {
        self.read_one(reader, "item", code, |state, scope| {
            let found = ItemCode::parse(code)
                .ok()
                .and_then(|code| state.items.get(&code));
            let row = found.and_then(|i| full_only(access::reference_data(scope), || json(i)));
            lookup(row, found.is_some(), found.map_or(0, |i| i.version))
        })
        .await
    }

    pub async fn rates(&self, reader: &Reader<'_>, page: Page) -> Result<Listed, AppError> {
        self.read_many(reader, "exchange rates", page, |state, scope| {
            let visibility = access::reference_data(scope);
            state
                .fx
                .iter()
                .filter_map(|rate| full_only(visibility, || json(rate)))
                .map(|row| Row {
                    confidential: false,
                    ..row
                })
                .collect()
        })
        .await
    }

    pub async fn lists(&self, reader: &Reader<'_>, page: Page) -> Result<Listed, AppError> {
        self.read_many(reader, "requirement lists", page, |state, scope| {
            state
                .lists
                .values()
                .filter_map(|list| list_row(state, scope, list))
                .collect()
        })
        .await
    }

    pub async fn list(&self, reader: &Reader<'_>, period: &str) -> Result<Found, AppError> {
        self.read_one(reader, "list", period, |state, scope| {
            let found = Period::parse(period)
                .ok()
                .and_then(|period| state.lists.get(&period));
            let row = found.and_then(|list| list_row(state, scope, list));
            lookup(row, found.is_some(), found.map_or(0, |l| l.version))
        })
        .await
    }

    /// How version `to` of a list differs from version `from` (for those who see lists in full).
    pub async fn list_diff(
        &self,
        reader: &Reader<'_>,
        period: &str,
        from: u32,
        to: u32,
    ) -> Result<Found, AppError> {
        let id = format!("{period} v{from}..v{to}");
        self.read_one(reader, "list diff", &id, |state, scope| {
            let list = Period::parse(period)
                .ok()
                .and_then(|period| state.lists.get(&period));
            let versions =
                list.and_then(|list| Some((list.get_version(from)?, list.get_version(to)?)));
            let row = versions.and_then(|(a, b)| {
                full_only(access::list(scope), || json(&purl_core::list::diff(a, b)))
            });
            lookup(row, versions.is_some(), list.map_or(0, |l| l.version))
        })
        .await
    }

    pub async fn pledges(&self, reader: &Reader<'_>, page: Page) -> Result<Listed, AppError> {
        self.read_many(reader, "pledges", page, |state, scope| {
            state
                .pledges
                .values()
                .filter_map(|pledge| pledge_row(scope, pledge))
                .collect()
        })
        .await
    }

    pub async fn pledge(&self, reader: &Reader<'_>, reference: &str) -> Result<Found, AppError> {
        self.read_one(reader, "pledge", reference, |state, scope| {
            let found = Reference::parse(reference)
                .ok()
                .and_then(|reference| state.pledges.get(&reference));
            let row = found.and_then(|pledge| pledge_row(scope, pledge));
            lookup(row, found.is_some(), found.map_or(0, |p| p.version))
        })
        .await
    }

    /// Payments, optionally only those against one pledge.
    pub async fn payments(
        &self,
        reader: &Reader<'_>,
        pledge: Option<&str>,
        page: Page,
    ) -> Result<Listed, AppError> {
        self.read_many(reader, "payments", page, |state, scope| {
            state
                .payments
                .values()
                .filter(|payment| pledge.is_none_or(|wanted| payment.pledge.as_str() == wanted))
                .filter_map(|payment| {
                    full_only(access::payment(scope, state, payment), || json(payment))
                })
                .collect()
        })
        .await
    }

    pub async fn payment(&self, reader: &Reader<'_>, id: &str) -> Result<Found, AppError> {
        self.read_one(reader, "payment", id, |state, scope| {
            let found = state.payments.get(id);
            let row = found.and_then(|payment| {
                full_only(access::payment(scope, state, payment), || json(payment))
            });
            lookup(row, found.is_some(), found.map_or(0, |p| p.version))
        })
        .await
    }

    pub async fn packages(&self, reader: &Reader<'_>, page: Page) -> Result<Listed, AppError> {
        self.read_many(reader, "packages", page, |state, scope| {
            state
                .packages
                .values()
                .filter_map(|package| package_row(state, scope, package))
                .collect()
        })
        .await
    }

    pub async fn package(&self, reader: &Reader<'_>, number: &str) -> Result<Found, AppError> {
        self.read_one(reader, "package", number, |state, scope| {
            let found = number
                .parse::<u32>()
                .ok()
                .and_then(|number| state.packages.get(&number));
            let row = found.and_then(|package| package_row(state, scope, package));
            lookup(row, found.is_some(), found.map_or(0, |p| p.version))
        })
        .await
    }

    /// Deliveries, optionally only those of one package.
    pub async fn deliveries(
        &self,
        reader: &Reader<'_>,
        package: Option<u32>,
        page: Page,
    ) -> Result<Listed, AppError> {
        self.read_many(reader, "deliveries", page, |state, scope| {
            state
                .deliveries
                .values()
                .filter(|delivery| package.is_none_or(|wanted| delivery.package == wanted))
                .filter_map(|delivery| {
                    full_only(access::delivery(scope, state, delivery), || json(delivery))
                })
                .collect()
        })
        .await
    }

    pub async fn delivery(&self, reader: &Reader<'_>, id: &str) -> Result<Found, AppError> {
        self.read_one(reader, "delivery", id, |state, scope| {
            let found = state.deliveries.get(id);
            let row = found.and_then(|delivery| {
                full_only(access::delivery(scope, state, delivery), || json(delivery))
            });
            lookup(row, found.is_some(), found.map_or(0, |d| d.version))
        })
        .await
    }

    pub async fn allocations(&self, reader: &Reader<'_>, page: Page) -> Result<Listed, AppError> {
        self.read_many(reader, "allocations", page, |state, scope| {
            let visibility = access::allocation(scope);
            state
                .allocations
                .values()
                .filter_map(|a| full_only(visibility, || json(a)))
                .collect()
        })
        .await
    }

    pub async fn allocation(&self, reader: &Reader<'_>, number: &str) -> Result<Found, AppError> {
        self.read_one(reader, "allocation", number, |state, scope| {
            let found = number
                .parse::<u32>()
                .ok()
                .and_then(|number| state.allocations.get(&number));
            let row = found.and_then(|a| full_only(access::allocation(scope), || json(a)));
            lookup(row, found.is_some(), found.map_or(0, |a| a.version))
        })
        .await
    }

    /// The overview report: aggregates for everyone, and among the pledges counted only those the
    /// reader may see (a public pledge without its payments).
    pub async fn overview_report(
        &self,
        reader: &Reader<'_>,
        as_of: chrono::NaiveDate,
    ) -> Result<purl_core::report::Overview, AppError> {
        Ok(self.overview_seen(reader, as_of).await?.0)
    }

    /// The overview report as JSON: a summarised pledge carries neither `paid` nor `paid_usd`.
    pub async fn overview(
        &self,
        reader: &Reader<'_>,
        as_of: chrono::NaiveDate,
    ) -> Result<Value, AppError> {
        let (overview, summarised) = self.overview_seen(reader, as_of).await?;
        let mut value = json(&overview);
        if let Some(figures) = value.get_mut("pledges").and_then(Value::as_array_mut) {
            for (figure, summary) in figures.iter_mut().zip(summarised) {
                if let (true, Some(object)) = (summary, figure.as_object_mut()) {
                    object.remove("paid");
                    object.remove("paid_usd");
                }
            }
        }
        Ok(value)
    }

    /// The overview as the reader may see it, typed (for pages): the pledges it may not see left
    /// out, and the payments of a pledge it sees only in summary taken away.
    pub async fn overview_view(
        &self,
        reader: &Reader<'_>,
        as_of: chrono::NaiveDate,
    ) -> Result<purl_core::report::Overview, AppError> {
        let (mut overview, summarised) = self.overview_seen(reader, as_of).await?;
        for (figure, summary) in overview.pledges.iter_mut().zip(summarised) {
            if summary {
                figure.paid = None;
                figure.paid_usd = None;
            }
        }
        Ok(overview)
    }

    /// The overview as the reader sees it, and for each pledge figure kept whether it is a summary.
    async fn overview_seen(
        &self,
        reader: &Reader<'_>,
        as_of: chrono::NaiveDate,
    ) -> Result<(purl_core::report::Overview, Vec<bool>), AppError> {
        let state = self.state().await?;
        let scope = Scope::of(reader.actor);
        let mut overview = purl_core::report::overview(&state, as_of)?;
        let mut confidential = false;
        let mut summarised = Vec::new();
        overview.pledges.retain_mut(|figure| {
            let Some(pledge) = state.pledges.get(&figure.reference) else {
                return false;
            };
            match access::pledge(&scope, pledge) {
                Visibility::Full => {
                    confidential = true;
                    summarised.push(false);
                    true
                }
                Visibility::Summary => {
                    figure.paid = None;
                    figure.paid_usd = None;
                    figure.status = pledge.status.as_str();
                    summarised.push(true);
                    true
                }
                Visibility::Hidden => false,
            }
        });
        if confidential {
            self.log_access(reader, "read overview".into(), Outcome::Allowed, 1)
                .await?;
        }
        Ok((overview, summarised))
    }

    /// The contributions report as the reader may see it: pledges it may not see only in one sum.
    /// Reading other parties' payments is logged.
    pub async fn contributions(
        &self,
        reader: &Reader<'_>,
        as_of: chrono::NaiveDate,
    ) -> Result<purl_core::report::contributions::Contributions, AppError> {
        let state = self.state().await?;
        let scope = Scope::of(reader.actor);
        let report = purl_core::report::contributions::contributions(&state, as_of, &|pledge| {
            access::pledge(&scope, pledge)
        })?;
        if report.rows.iter().any(|row| row.paid.is_some()) {
            self.log_access(reader, "read contributions".into(), Outcome::Allowed, 1)
                .await?;
        }
        Ok(report)
    }

    /// The overview's totals at the end of each month up to `as_of` (public figures: every point
    /// is the public overview of its day).
    pub async fn timeline(
        &self,
        as_of: chrono::NaiveDate,
    ) -> Result<purl_core::report::timeline::Timeline, AppError> {
        let state = self.state().await?;
        Ok(purl_core::report::timeline::timeline(&state, as_of)?)
    }

    pub async fn gdp(&self, reader: &Reader<'_>, page: Page) -> Result<Listed, AppError> {
        self.read_many(reader, "GDP figures", page, |state, scope| {
            let visibility = access::reference_data(scope);
            state
                .gdp
                .iter()
                .filter_map(|figure| full_only(visibility, || json(figure)))
                .map(|row| Row {
                    confidential: false,
                    ..row
                })
                .collect()
        })
        .await
    }
}

//! The state every command is decided against: a fold of the events (`apply`), and its projection
//! into read-side records (`records`) that the store keeps in the same transaction as the events.

use serde::Serialize;

use crate::allocation::CommittedAllocation;
use crate::catalogue::CatalogueItem;
use crate::event::{Event, EventPayload};
use crate::fx::{FxRate, FxTable};
use crate::ids::{ItemCode, ParticipantCode, Period, Reference, Username};
use crate::list::{ListStatus, ListVersion, RequirementList};
use crate::package::{Delivery, Package, StatusChange};
use crate::participant::Participant;
use crate::pledge::{Payment, Pledge, PledgeStatus};
use crate::user::User;

/// The state's maps: persistent, so a copy of the state costs O(1) and each change O(log n) —
/// every write starts from a copy of the current state while reads keep using it.
pub type Map<K, V> = imbl::OrdMap<K, V>;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub participants: Map<ParticipantCode, Participant>,
    pub users: Map<Username, User>,
    pub items: Map<ItemCode, CatalogueItem>,
    pub lists: Map<Period, RequirementList>,
    pub pledges: Map<Reference, Pledge>,
    pub payments: Map<String, Payment>,
    pub packages: Map<u32, Package>,
    pub deliveries: Map<String, Delivery>,
    pub fx: FxTable,
    pub gdp: crate::gdp::GdpTable,
    pub allocations: Map<u32, crate::allocation::CommittedAllocation>,
    /// Sequence number of the last event applied (0 for an empty ledger).
    pub head: u64,
}

/// The kinds of read-side record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    Participant,
    User,
    Item,
    List,
    Pledge,
    Payment,
    Package,
    Delivery,
    FxRate,
    Gdp,
    Allocation,
}

impl RecordKind {
    pub const ALL: [RecordKind; 11] = [
        RecordKind::Participant,
        RecordKind::User,
        RecordKind::Item,
        RecordKind::List,
        RecordKind::Pledge,
        RecordKind::Payment,
        RecordKind::Package,
        RecordKind::Delivery,
        RecordKind::FxRate,
        RecordKind::Gdp,
        RecordKind::Allocation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Participant => "participant",
            RecordKind::User => "user",
            RecordKind::Item => "item",
            RecordKind::List => "list",
            RecordKind::Pledge => "pledge",
            RecordKind::Payment => "payment",
            RecordKind::Package => "package",
            RecordKind::Delivery => "delivery",
            RecordKind::FxRate => "fx_rate",
            RecordKind::Gdp => "gdp",
            RecordKind::Allocation => "allocation",
        }
    }

    pub fn parse(input: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == input)
    }
}

/// Identifies one read-side record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordKey {
    pub kind: RecordKind,
    pub id: String,
}

impl RecordKey {
    fn new(kind: RecordKind, id: impl ToString) -> Self {
        Self {
            kind,
            id: id.to_string(),
        }
    }
}

impl std::fmt::Display for RecordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind.as_str(), self.id)
    }
}

/// A read-side record: its key, its version and its body as canonical JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub key: RecordKey,
    pub version: u64,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {seq} cannot be applied: {reason}")]
pub struct ApplyError {
    pub seq: u64,
    pub reason: String,
}

fn fx_id(rate: &FxRate) -> String {
    format!("{}/{}", rate.currency, rate.date)
}

fn canonical<T: Serialize>(value: &T) -> String {
    let bytes = crate::canonical_json::to_vec(value).expect("records always serialise");
    String::from_utf8(bytes).expect("JSON is UTF-8")
}

impl State {
    /// Applies one event, returning the records it touched. Events come from `decide`, so a
    /// failure here means the ledger itself is inconsistent (it is reported, never ignored).
    pub fn apply(&mut self, event: &Event) -> Result<Vec<RecordKey>, ApplyError> {
        if event.seq != self.head + 1 {
            return Err(ApplyError {
                seq: event.seq,
                reason: format!("expected sequence number {}", self.head + 1),
            });
        }
        let fail = |reason: &str| ApplyError {
            seq: event.seq,
            reason: reason.to_owned(),
        };
        let touched = self
            .apply_payload(&event.event)
            .map_err(|reason| fail(&reason))?;
        self.head = event.seq;
        Ok(touched)
    }

    fn apply_payload(&mut self, payload: &EventPayload) -> Result<Vec<RecordKey>, String> {
        use EventPayload as E;
        match payload {
            E::ParticipantAdded { .. }
            | E::UserAdded { .. }
            | E::UserRolesSet { .. }
            | E::UserActiveSet { .. }
            | E::ItemAdded { .. }
            | E::ItemPriced { .. } => self.apply_reference(payload),
            E::ListCreated { .. }
            | E::ListVersionDrafted { .. }
            | E::LineAdded { .. }
            | E::LineUpdated { .. }
            | E::LineMoved { .. }
            | E::LineRemoved { .. }
            | E::LinesReplaced { .. }
            | E::ListSubmitted { .. }
            | E::ListReturned { .. }
            | E::ListApprovedBy { .. }
            | E::ListVersionApproved { .. }
            | E::ListVersionSuperseded { .. } => self.apply_list(payload),
            E::PledgeRecorded { .. }
            | E::PledgeCommitted { .. }
            | E::PledgeWithdrawn { .. }
            | E::PledgePublicitySet { .. }
            | E::PledgeAmountSet { .. }
            | E::PaymentRecorded { .. }
            | E::RatesRecorded { .. }
            | E::GdpRecorded { .. } => self.apply_money(payload),
            E::PackageCreated { .. }
            | E::PackageLineAdded { .. }
            | E::ContributionAllocated { .. }
            | E::PackageStatusChanged { .. }
            | E::DeliveryShipped { .. }
            | E::DeliveryReceived { .. } => self.apply_package(payload),
            E::AllocationCommitted { allocation } => {
                let key = RecordKey::new(RecordKind::Allocation, allocation.number);
                insert_new(&mut self.allocations, allocation.number, allocation, &key)?;
                Ok(vec![key])
            }
        }
    }

    fn apply_reference(&mut self, payload: &EventPayload) -> Result<Vec<RecordKey>, String> {
        use EventPayload as E;
        match payload {
            E::ParticipantAdded { participant } => {
                let key = RecordKey::new(RecordKind::Participant, &participant.code);
                insert_new(
                    &mut self.participants,
                    participant.code.clone(),
                    participant,
                    &key,
                )?;
                Ok(vec![key])
            }
            E::UserAdded { user } => {
                let key = RecordKey::new(RecordKind::User, &user.username);
                insert_new(&mut self.users, user.username.clone(), user, &key)?;
                Ok(vec![key])
            }
            E::UserRolesSet { username, roles } => {
                let user = get_mut(&mut self.users, username, "user")?;
                user.roles.clone_from(roles);
                user.version += 1;
                Ok(vec![RecordKey::new(RecordKind::User, username)])
            }
            E::UserActiveSet { username, active } => {
                let user = get_mut(&mut self.users, username, "user")?;
                user.active = *active;
                user.version += 1;
                Ok(vec![RecordKey::new(RecordKind::User, username)])
            }
            E::ItemAdded { item } => {
                let key = RecordKey::new(RecordKind::Item, &item.code);
                insert_new(&mut self.items, item.code.clone(), item, &key)?;
                Ok(vec![key])
            }
            E::ItemPriced {
                code,
                unit_price,
                lead_time_days,
            } => {
                let item = get_mut(&mut self.items, code, "item")?;
                item.unit_price = *unit_price;
                item.lead_time_days = *lead_time_days;
                item.version += 1;
                Ok(vec![RecordKey::new(RecordKind::Item, code)])
            }
            _ => unreachable!("apply_payload routes only reference-data events here"),
        }
    }

    fn apply_list(&mut self, payload: &EventPayload) -> Result<Vec<RecordKey>, String> {
        use EventPayload as E;
        if let E::ListCreated { period } = payload {
            let list = RequirementList {
                period: *period,
                versions: vec![new_version(1, None)],
                next_line_number: 1,
                version: 0,
            };
            let key = RecordKey::new(RecordKind::List, period);
            insert_new(&mut self.lists, *period, &list, &key)?;
            return Ok(vec![key]);
        }
        let period = list_period(payload);
        let list = get_mut(&mut self.lists, &period, "list")?;
        list.version += 1;
        apply_to_list(list, payload)?;
        Ok(vec![RecordKey::new(RecordKind::List, period)])
    }

    fn apply_money(&mut self, payload: &EventPayload) -> Result<Vec<RecordKey>, String> {
        use EventPayload as E;
        let pledge_key = |reference: &Reference| RecordKey::new(RecordKind::Pledge, reference);
        match payload {
            E::PledgeRecorded { pledge } => {
                let key = pledge_key(&pledge.reference);
                insert_new(&mut self.pledges, pledge.reference.clone(), pledge, &key)?;
                Ok(vec![key])
            }
            E::PledgeCommitted { reference, on } => {
                let pledge = get_mut(&mut self.pledges, reference, "pledge")?;
                pledge.status = PledgeStatus::Committed;
                pledge.committed_on = Some(*on);
                pledge.version += 1;
                Ok(vec![pledge_key(reference)])
            }
            E::PledgeWithdrawn { reference, on } => {
                let pledge = get_mut(&mut self.pledges, reference, "pledge")?;
                pledge.status = PledgeStatus::Withdrawn;
                pledge.withdrawn_on = Some(*on);
                pledge.version += 1;
                Ok(vec![pledge_key(reference)])
            }
            E::PledgePublicitySet { reference, public } => {
                let pledge = get_mut(&mut self.pledges, reference, "pledge")?;
                pledge.public = *public;
                pledge.version += 1;
                Ok(vec![pledge_key(reference)])
            }
            E::PledgeAmountSet { reference, amount } => {
                let pledge = get_mut(&mut self.pledges, reference, "pledge")?;
                pledge.amount = Some(*amount);
                pledge.currency = Some(amount.currency());
                pledge.version += 1;
                Ok(vec![pledge_key(reference)])
            }
            E::PaymentRecorded { payment } => self.apply_payment(payment),
            E::RatesRecorded { rates } => {
                let keys = rates
                    .iter()
                    .map(|rate| RecordKey::new(RecordKind::FxRate, fx_id(rate)));
                let keys: Vec<_> = keys.collect();
                for rate in rates {
                    self.fx.insert(rate.clone());
                }
                Ok(keys)
            }
            E::GdpRecorded { figures } => {
                let keys = figures
                    .iter()
                    .map(|figure| RecordKey::new(RecordKind::Gdp, figure.id()))
                    .collect();
                for figure in figures {
                    self.gdp.insert(figure.clone());
                }
                Ok(keys)
            }
            _ => unreachable!("apply_payload routes only money events here"),
        }
    }

    fn apply_payment(&mut self, payment: &Payment) -> Result<Vec<RecordKey>, String> {
        let pledge = get_mut(&mut self.pledges, &payment.pledge, "pledge")?;
        let paid = match pledge.paid {
            None => payment.amount,
            Some(paid) => paid
                .checked_add(payment.amount)
                .ok_or("payment currency differs from earlier payments")?,
        };
        pledge.paid = Some(paid);
        pledge.version += 1;
        let key = RecordKey::new(RecordKind::Payment, &payment.id);
        insert_new(&mut self.payments, payment.id.clone(), payment, &key)?;
        Ok(vec![
            key,
            RecordKey::new(RecordKind::Pledge, &payment.pledge),
        ])
    }

    fn apply_package(&mut self, payload: &EventPayload) -> Result<Vec<RecordKey>, String> {
        use EventPayload as E;
        let package_key = |number: u32| RecordKey::new(RecordKind::Package, number);
        match payload {
            E::PackageCreated { number, name, on } => {
                let package = Package {
                    number: *number,
                    name: name.clone(),
                    status: crate::package::PackageStatus::Forming,
                    lines: Vec::new(),
                    contributions: Vec::new(),
                    value: crate::money::Money::zero(crate::money::Currency::USD),
                    history: vec![StatusChange {
                        status: crate::package::PackageStatus::Forming,
                        on: *on,
                    }],
                    version: 0,
                };
                insert_new(&mut self.packages, *number, &package, &package_key(*number))?;
                Ok(vec![package_key(*number)])
            }
            E::PackageLineAdded { number, line } => {
                let package = get_mut(&mut self.packages, number, "package")?;
                package.value = package
                    .value
                    .checked_add(line.value)
                    .ok_or("package value overflows")?;
                package.lines.push(line.clone());
                package.version += 1;
                Ok(vec![package_key(*number)])
            }
            E::ContributionAllocated {
                number,
                contribution,
            } => {
                let package = get_mut(&mut self.packages, number, "package")?;
                package.contributions.push(contribution.clone());
                package.version += 1;
                Ok(vec![package_key(*number)])
            }
            E::PackageStatusChanged { number, status, on } => {
                let package = get_mut(&mut self.packages, number, "package")?;
                package.status = *status;
                package.history.push(StatusChange {
                    status: *status,
                    on: *on,
                });
                package.version += 1;
                Ok(vec![package_key(*number)])
            }
            E::DeliveryShipped { delivery } => {
                let key = RecordKey::new(RecordKind::Delivery, &delivery.id);
                insert_new(&mut self.deliveries, delivery.id.clone(), delivery, &key)?;
                Ok(vec![key])
            }
            E::DeliveryReceived {
                id,
                received_on,
                quantity,
            } => {
                let delivery = get_mut(&mut self.deliveries, id, "delivery")?;
                delivery.received_on = Some(*received_on);
                delivery.received_quantity = Some(*quantity);
                delivery.version += 1;
                Ok(vec![RecordKey::new(RecordKind::Delivery, id)])
            }
            _ => unreachable!("apply_payload routes only package events here"),
        }
    }

    /// The read-side record for `key`, or `None` if it does not exist.
    pub fn record(&self, key: &RecordKey) -> Option<Record> {
        let id = key.id.as_str();
        let (version, body) = match key.kind {
            RecordKind::Participant => versioned(
                self.participants.get(&ParticipantCode::parse(id).ok()?),
                |v| v.version,
            ),
            RecordKind::User => {
                versioned(self.users.get(&Username::parse(id).ok()?), |v| v.version)
            }
            RecordKind::Item => {
                versioned(self.items.get(&ItemCode::parse(id).ok()?), |v| v.version)
            }
            RecordKind::List => versioned(self.lists.get(&Period::parse(id).ok()?), |v| v.version),
            RecordKind::Pledge => {
                versioned(self.pledges.get(&Reference::parse(id).ok()?), |v| v.version)
            }
            RecordKind::Payment => versioned(self.payments.get(id), |v| v.version),
            RecordKind::Package => {
                versioned(self.packages.get(&id.parse::<u32>().ok()?), |v| v.version)
            }
            RecordKind::Delivery => versioned(self.deliveries.get(id), |v| v.version),
            RecordKind::Allocation => {
                versioned(self.allocations.get(&id.parse::<u32>().ok()?), |v| {
                    v.version
                })
            }
            RecordKind::FxRate => {
                let (currency, date) = id.split_once('/')?;
                let rate = self.fx.get(currency.parse().ok()?, date.parse().ok()?)?;
                Some((0, canonical(rate)))
            }
            RecordKind::Gdp => {
                let (country, year) = id.split_once('/')?;
                let figure = self.gdp.get(country, year.parse().ok()?)?;
                Some((0, canonical(figure)))
            }
        }?;
        Some(Record {
            key: key.clone(),
            version,
            body,
        })
    }

    /// Every read-side record, in key order.
    pub fn records(&self) -> Vec<Record> {
        self.record_keys()
            .iter()
            .map(|key| self.record(key).expect("keys listed from the state exist"))
            .collect()
    }

    /// The key of every read-side record, in key order.
    pub fn record_keys(&self) -> Vec<RecordKey> {
        let mut keys: Vec<RecordKey> = Vec::new();
        let mut add = |kind, ids: Vec<String>| {
            keys.extend(ids.into_iter().map(|id| RecordKey::new(kind, id)))
        };
        add(
            RecordKind::Participant,
            self.participants.keys().map(ToString::to_string).collect(),
        );
        add(
            RecordKind::User,
            self.users.keys().map(ToString::to_string).collect(),
        );
        add(
            RecordKind::Item,
            self.items.keys().map(ToString::to_string).collect(),
        );
        add(
            RecordKind::List,
            self.lists.keys().map(ToString::to_string).collect(),
        );
        add(
            RecordKind::Pledge,
            self.pledges.keys().map(ToString::to_string).collect(),
        );
        add(RecordKind::Payment, self.payments.keys().cloned().collect());
        add(
            RecordKind::Package,
            self.packages.keys().map(ToString::to_string).collect(),
        );
        add(
            RecordKind::Allocation,
            self.allocations.keys().map(ToString::to_string).collect(),
        );
        add(
            RecordKind::Delivery,
            self.deliveries.keys().cloned().collect(),
        );
        add(RecordKind::FxRate, self.fx.iter().map(fx_id).collect());
        add(
            RecordKind::Gdp,
            self.gdp.iter().map(crate::gdp::GdpFigure::id).collect(),
        );
        keys.sort();
        keys
    }

    /// Loads one stored record (the read-side tables) into the state.
    pub fn load_record(&mut self, kind: RecordKind, body: &str) -> Result<(), serde_json::Error> {
        match kind {
            RecordKind::Participant => load(&mut self.participants, body, |v: &Participant| {
                v.code.clone()
            }),
            RecordKind::User => load(&mut self.users, body, |v: &User| v.username.clone()),
            RecordKind::Item => load(&mut self.items, body, |v: &CatalogueItem| v.code.clone()),
            RecordKind::List => load(&mut self.lists, body, |v: &RequirementList| v.period),
            RecordKind::Pledge => load(&mut self.pledges, body, |v: &Pledge| v.reference.clone()),
            RecordKind::Payment => load(&mut self.payments, body, |v: &Payment| v.id.clone()),
            RecordKind::Package => load(&mut self.packages, body, |v: &Package| v.number),
            RecordKind::Delivery => load(&mut self.deliveries, body, |v: &Delivery| v.id.clone()),
            RecordKind::Allocation => {
                load(&mut self.allocations, body, |v: &CommittedAllocation| {
                    v.number
                })
            }
            RecordKind::FxRate => {
                self.fx.insert(serde_json::from_str(body)?);
                Ok(())
            }
            RecordKind::Gdp => {
                self.gdp.insert(serde_json::from_str(body)?);
                Ok(())
            }
        }
    }
}

fn versioned<T: Serialize>(value: Option<&T>, version: fn(&T) -> u64) -> Option<(u64, String)> {
    value.map(|v| (version(v), canonical(v)))
}

fn load<K: Ord + Clone, V: Clone + serde::de::DeserializeOwned>(
    map: &mut Map<K, V>,
    body: &str,
    key: fn(&V) -> K,
) -> Result<(), serde_json::Error> {
    let value: V = serde_json::from_str(body)?;
    map.insert(key(&value), value);
    Ok(())
}

fn insert_new<K: Ord + Clone, V: Clone + HasVersion>(
    map: &mut Map<K, V>,
    key: K,
    value: &V,
    record: &RecordKey,
) -> Result<(), String> {
    if map.contains_key(&key) {
        return Err(format!("{record} already exists"));
    }
    let mut value = value.clone();
    value.set_version(1);
    map.insert(key, value);
    Ok(())
}

fn get_mut<'a, K: Ord + Clone + std::fmt::Display, V: Clone>(
    map: &'a mut Map<K, V>,
    key: &K,
    what: &str,
) -> Result<&'a mut V, String> {
    map.get_mut(key)
        .ok_or_else(|| format!("{what} {key} does not exist"))
}

/// Objects whose records carry a version, counted from 1 at creation.
pub trait HasVersion {
    fn set_version(&mut self, version: u64);
}

macro_rules! has_version {
    ($($type:ty),*) => {
        $(impl HasVersion for $type {
            fn set_version(&mut self, version: u64) { self.version = version; }
        })*
    };
}
has_version!(
    Participant,
    User,
    CatalogueItem,
    RequirementList,
    Pledge,
    Payment,
    Package,
    Delivery,
    CommittedAllocation
);

fn new_version(number: u32, based_on: Option<u32>) -> ListVersion {
    ListVersion {
        number,
        status: ListStatus::Draft,
        lines: Vec::new(),
        approvals: Default::default(),
        based_on,
    }
}

fn list_period(payload: &EventPayload) -> Period {
    use EventPayload as E;
    match payload {
        E::ListVersionDrafted { period, .. }
        | E::LineAdded { period, .. }
        | E::LineUpdated { period, .. }
        | E::LineMoved { period, .. }
        | E::LineRemoved { period, .. }
        | E::LinesReplaced { period, .. }
        | E::ListSubmitted { period, .. }
        | E::ListReturned { period, .. }
        | E::ListApprovedBy { period, .. }
        | E::ListVersionApproved { period, .. }
        | E::ListVersionSuperseded { period, .. }
        | E::ListCreated { period } => *period,
        _ => unreachable!("only list events carry a period"),
    }
}

fn apply_to_list(list: &mut RequirementList, payload: &EventPayload) -> Result<(), String> {
    use EventPayload as E;
    if let E::ListVersionDrafted {
        number, based_on, ..
    } = payload
    {
        let mut version = new_version(*number, *based_on);
        if let Some(base) = based_on {
            version.lines = list
                .get_version(*base)
                .ok_or("base version missing")?
                .lines
                .clone();
        }
        list.versions.push(version);
        return Ok(());
    }
    let number = match payload {
        E::LineAdded { version, .. }
        | E::LineUpdated { version, .. }
        | E::LineMoved { version, .. }
        | E::LineRemoved { version, .. }
        | E::LinesReplaced { version, .. }
        | E::ListSubmitted { version, .. }
        | E::ListReturned { version, .. }
        | E::ListApprovedBy { version, .. }
        | E::ListVersionApproved { version, .. }
        | E::ListVersionSuperseded { version, .. } => *version,
        _ => unreachable!("handled above or not a list event"),
    };
    let next_line_number = &mut list.next_line_number;
    let version = list
        .versions
        .iter_mut()
        .find(|v| v.number == number)
        .ok_or("version missing")?;
    apply_to_version(version, next_line_number, payload)
}

fn apply_to_version(
    version: &mut ListVersion,
    next_line_number: &mut u32,
    payload: &EventPayload,
) -> Result<(), String> {
    use EventPayload as E;
    let position = |version: &ListVersion, id: &str| {
        version
            .lines
            .iter()
            .position(|line| line.id == id)
            .ok_or(format!("line {id} missing"))
    };
    match payload {
        E::LineAdded { rank, line, .. } => {
            let index = (*rank as usize).saturating_sub(1).min(version.lines.len());
            version.lines.insert(index, line.clone());
            *next_line_number += 1;
        }
        E::LineUpdated { line, .. } => {
            let index = position(version, &line.id)?;
            version.lines[index] = line.clone();
        }
        E::LineMoved { line_id, rank, .. } => {
            let line = version.lines.remove(position(version, line_id)?);
            let index = (*rank as usize).saturating_sub(1).min(version.lines.len());
            version.lines.insert(index, line);
        }
        E::LineRemoved { line_id, .. } => {
            version.lines.remove(position(version, line_id)?);
        }
        E::LinesReplaced { lines, .. } => {
            let new_ids = lines
                .iter()
                .filter(|line| version.line(&line.id).is_none())
                .count();
            version.lines.clone_from(lines);
            *next_line_number += u32::try_from(new_ids).map_err(|e| e.to_string())?;
        }
        E::ListSubmitted { .. } => version.status = ListStatus::Submitted,
        E::ListReturned { .. } => {
            version.status = ListStatus::Draft;
            version.approvals.clear();
        }
        E::ListApprovedBy { party, .. } => {
            version.approvals.insert(*party);
        }
        E::ListVersionApproved { .. } => version.status = ListStatus::Approved,
        E::ListVersionSuperseded { .. } => version.status = ListStatus::Superseded,
        _ => unreachable!("only version events reach here"),
    }
    Ok(())
}

//! Events: what a command changed, in the ledger's canonical byte encoding.
//!
//! The encoding is compact JSON with keys sorted (the same bytes on every machine and backend), of
//! an envelope `{"actor", "at_us", "event", "format", "seq"}`. The leaf hash of an event is
//! SHA-256(0x00 ‖ canonical bytes ‖ salt), the RFC 9162 leaf hash of the salted bytes, so the
//! Merkle tree can be built over the same leaves and a leaf can be opened to one party alone.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalogue::CatalogueItem;
use crate::fx::FxRate;
use crate::ids::{ItemCode, Name, Period, Reference, Username};
use crate::list::Line;
use crate::money::Money;
use crate::package::{Contribution, Delivery, PackageLine, PackageStatus};
use crate::participant::{Participant, Party};
use crate::pledge::{Payment, Pledge};
use crate::user::{Role, User};

/// The envelope format written into every event's bytes.
pub const EVENT_FORMAT: &str = "purl-event/1";
/// Salt length: 32 random bytes make a leaf hash unguessable without its opening.
pub const SALT_BYTES: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum EventPayload {
    ParticipantAdded {
        participant: Participant,
    },
    UserAdded {
        user: User,
    },
    UserRolesSet {
        username: Username,
        roles: BTreeSet<Role>,
    },
    UserActiveSet {
        username: Username,
        active: bool,
    },
    ItemAdded {
        item: CatalogueItem,
    },
    ItemPriced {
        code: ItemCode,
        unit_price: Money,
        lead_time_days: u32,
    },
    ListCreated {
        period: Period,
    },
    ListVersionDrafted {
        period: Period,
        number: u32,
        based_on: Option<u32>,
    },
    LineAdded {
        period: Period,
        version: u32,
        rank: u32,
        line: Line,
    },
    LineUpdated {
        period: Period,
        version: u32,
        line: Line,
    },
    LineMoved {
        period: Period,
        version: u32,
        line_id: String,
        rank: u32,
    },
    LineRemoved {
        period: Period,
        version: u32,
        line_id: String,
    },
    LinesReplaced {
        period: Period,
        version: u32,
        lines: Vec<Line>,
    },
    ListSubmitted {
        period: Period,
        version: u32,
    },
    ListReturned {
        period: Period,
        version: u32,
    },
    ListApprovedBy {
        period: Period,
        version: u32,
        party: Party,
    },
    ListVersionApproved {
        period: Period,
        version: u32,
    },
    ListVersionSuperseded {
        period: Period,
        version: u32,
    },
    PledgeRecorded {
        pledge: Pledge,
    },
    PledgeCommitted {
        reference: Reference,
        on: NaiveDate,
    },
    PledgeWithdrawn {
        reference: Reference,
        on: NaiveDate,
    },
    PledgePublicitySet {
        reference: Reference,
        public: bool,
    },
    PledgeAmountSet {
        reference: Reference,
        amount: Money,
    },
    PaymentRecorded {
        payment: Payment,
    },
    RatesRecorded {
        rates: Vec<FxRate>,
    },
    PackageCreated {
        number: u32,
        name: Name,
        on: NaiveDate,
    },
    PackageLineAdded {
        number: u32,
        line: PackageLine,
    },
    ContributionAllocated {
        number: u32,
        contribution: Contribution,
    },
    PackageStatusChanged {
        number: u32,
        status: PackageStatus,
        on: NaiveDate,
    },
    DeliveryShipped {
        delivery: Delivery,
    },
    DeliveryReceived {
        id: String,
        received_on: NaiveDate,
        quantity: u64,
    },
}

impl EventPayload {
    /// The event's type name, as stored beside it for queries.
    pub fn kind(&self) -> String {
        let value = serde_json::to_value(self).expect("events always serialise");
        value["type"]
            .as_str()
            .expect("events are internally tagged")
            .to_owned()
    }
}

/// One ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub format: String,
    /// Position in the ledger, from 1, without gaps.
    pub seq: u64,
    /// When the command was accepted, in microseconds since the Unix epoch.
    pub at_us: i64,
    /// `operator` or `user:NAME@PARTICIPANT`.
    pub actor: String,
    pub event: EventPayload,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventDecodeError {
    #[error("event bytes are not a valid event: {0}")]
    Malformed(String),
    #[error("event bytes are not in canonical form")]
    NotCanonical,
    #[error("event format '{0}' is unknown")]
    UnknownFormat(String),
}

impl Event {
    pub fn new(seq: u64, at_us: i64, actor: String, event: EventPayload) -> Self {
        Self {
            format: EVENT_FORMAT.to_owned(),
            seq,
            at_us,
            actor,
            event,
        }
    }

    /// Compact JSON with object keys sorted at every level.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let value = serde_json::to_value(self).expect("events always serialise");
        serde_json::to_vec(&value).expect("a JSON value always serialises")
    }

    /// Decodes stored bytes, refusing any that are not exactly the canonical encoding.
    pub fn from_canonical_bytes(bytes: &[u8]) -> Result<Self, EventDecodeError> {
        let event: Event = serde_json::from_slice(bytes)
            .map_err(|error| EventDecodeError::Malformed(error.to_string()))?;
        if event.format != EVENT_FORMAT {
            return Err(EventDecodeError::UnknownFormat(event.format));
        }
        if event.canonical_bytes() != bytes {
            return Err(EventDecodeError::NotCanonical);
        }
        Ok(event)
    }
}

/// SHA-256(0x00 ‖ bytes ‖ salt): the RFC 9162 leaf hash of the salted event.
pub fn leaf_hash(bytes: &[u8], salt: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(bytes);
    hasher.update(salt);
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Event {
        Event::new(
            7,
            1_764_720_000_000_000,
            "operator".into(),
            EventPayload::PledgeCommitted {
                reference: Reference::parse("NLD-1").unwrap(),
                on: NaiveDate::from_ymd_opt(2025, 12, 3).unwrap(),
            },
        )
    }

    #[test]
    fn canonical_bytes_sort_keys_and_round_trip() {
        let bytes = sample().canonical_bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(
            text,
            r#"{"actor":"operator","at_us":1764720000000000,"event":{"on":"2025-12-03","reference":"NLD-1","type":"pledge_committed"},"format":"purl-event/1","seq":7}"#
        );
        assert_eq!(Event::from_canonical_bytes(&bytes).unwrap(), sample());
    }

    #[test]
    fn non_canonical_bytes_are_refused() {
        let text = String::from_utf8(sample().canonical_bytes())
            .unwrap()
            .replace(",", ", ");
        assert_eq!(
            Event::from_canonical_bytes(text.as_bytes()),
            Err(EventDecodeError::NotCanonical)
        );
    }

    #[test]
    fn leaf_hash_is_the_rfc_9162_leaf_hash_of_bytes_and_salt() {
        // RFC 6962 test vector: the leaf hash of the empty leaf.
        assert_eq!(
            hex::encode(leaf_hash(b"", b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        assert_eq!(leaf_hash(b"ab", b"c"), leaf_hash(b"a", b"bc"));
        assert_ne!(leaf_hash(b"ab", b"c"), leaf_hash(b"ab", b"d"));
    }
}

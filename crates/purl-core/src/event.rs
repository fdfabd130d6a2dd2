//! Events: what a command changed, in the ledger's canonical byte encoding.
//!
//! The encoding is a binary header and a JSON payload, the same bytes on every machine and backend:
//!
//! ```text
//! "purl-event/1\n"  seq (u64 BE)  at_us (i64 BE)  len (u16 BE) actor  len (u16 BE) kind  payload
//! ```
//!
//! where the payload is the event as compact JSON with object keys sorted at every level. The
//! header can be checked without parsing JSON (fast verification); the payload is parsed only to
//! replay. The leaf hash of an event is SHA-256(0x00 ‖ canonical bytes ‖ salt), the RFC 9162 leaf
//! hash of the salted bytes, so the Merkle tree is built over the same leaves and a leaf can be
//! opened to one party alone.

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

/// The domain separator and format version that start every event's bytes.
pub const EVENT_MAGIC: &[u8] = b"purl-event/1\n";
/// Actor and kind names are short; a longer one is not ours.
const HEADER_TEXT_BYTES_MAX: usize = 1_024;
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
    GdpRecorded {
        figures: Vec<crate::gdp::GdpFigure>,
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
    AllocationCommitted {
        allocation: crate::allocation::CommittedAllocation,
    },
}

impl EventPayload {
    /// The event's type name: its `type` tag in the payload, stored beside it for queries.
    pub fn kind(&self) -> &'static str {
        use EventPayload as E;
        match self {
            E::ParticipantAdded { .. } => "participant_added",
            E::UserAdded { .. } => "user_added",
            E::UserRolesSet { .. } => "user_roles_set",
            E::UserActiveSet { .. } => "user_active_set",
            E::ItemAdded { .. } => "item_added",
            E::ItemPriced { .. } => "item_priced",
            E::ListCreated { .. } => "list_created",
            E::ListVersionDrafted { .. } => "list_version_drafted",
            E::LineAdded { .. } => "line_added",
            E::LineUpdated { .. } => "line_updated",
            E::LineMoved { .. } => "line_moved",
            E::LineRemoved { .. } => "line_removed",
            E::LinesReplaced { .. } => "lines_replaced",
            E::ListSubmitted { .. } => "list_submitted",
            E::ListReturned { .. } => "list_returned",
            E::ListApprovedBy { .. } => "list_approved_by",
            E::ListVersionApproved { .. } => "list_version_approved",
            E::ListVersionSuperseded { .. } => "list_version_superseded",
            E::PledgeRecorded { .. } => "pledge_recorded",
            E::PledgeCommitted { .. } => "pledge_committed",
            E::PledgeWithdrawn { .. } => "pledge_withdrawn",
            E::PledgePublicitySet { .. } => "pledge_publicity_set",
            E::PledgeAmountSet { .. } => "pledge_amount_set",
            E::PaymentRecorded { .. } => "payment_recorded",
            E::RatesRecorded { .. } => "rates_recorded",
            E::GdpRecorded { .. } => "gdp_recorded",
            E::PackageCreated { .. } => "package_created",
            E::PackageLineAdded { .. } => "package_line_added",
            E::ContributionAllocated { .. } => "contribution_allocated",
            E::PackageStatusChanged { .. } => "package_status_changed",
            E::DeliveryShipped { .. } => "delivery_shipped",
            E::DeliveryReceived { .. } => "delivery_received",
            E::AllocationCommitted { .. } => "allocation_committed",
        }
    }

    /// Compact JSON with object keys sorted at every level.
    pub fn canonical_json(&self) -> Vec<u8> {
        crate::canonical_json::to_vec(self).expect("events always serialise")
    }
}

/// The binary header of an event's bytes, read without parsing the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventHeader<'a> {
    pub seq: u64,
    pub at_us: i64,
    pub actor: &'a str,
    pub kind: &'a str,
    pub payload: &'a [u8],
}

impl<'a> EventHeader<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Self, EventDecodeError> {
        let malformed = |what: &str| EventDecodeError::Malformed(what.to_owned());
        let rest = bytes
            .strip_prefix(EVENT_MAGIC)
            .ok_or(EventDecodeError::UnknownFormat)?;
        let (seq, rest) = take::<8>(rest).ok_or_else(|| malformed("no sequence number"))?;
        let (at_us, rest) = take::<8>(rest).ok_or_else(|| malformed("no time"))?;
        let (actor, rest) = take_text(rest).ok_or_else(|| malformed("no actor"))?;
        let (kind, payload) = take_text(rest).ok_or_else(|| malformed("no kind"))?;
        Ok(Self {
            seq: u64::from_be_bytes(seq),
            at_us: i64::from_be_bytes(at_us),
            actor,
            kind,
            payload,
        })
    }
}

fn take<const N: usize>(bytes: &[u8]) -> Option<([u8; N], &[u8])> {
    let (head, rest) = bytes.split_at_checked(N)?;
    Some((head.try_into().ok()?, rest))
}

fn take_text(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let (length, rest) = take::<2>(bytes)?;
    let (text, rest) = rest.split_at_checked(usize::from(u16::from_be_bytes(length)))?;
    Some((std::str::from_utf8(text).ok()?, rest))
}

/// One ledger entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
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
    #[error("event bytes do not start with the purl-event/1 header")]
    UnknownFormat,
    #[error("the header says '{header}' but the payload is '{payload}'")]
    KindMismatch { header: String, payload: String },
}

impl Event {
    pub fn new(seq: u64, at_us: i64, actor: String, event: EventPayload) -> Self {
        assert!(
            actor.len() <= HEADER_TEXT_BYTES_MAX,
            "actor names are short ledger names"
        );
        Self {
            seq,
            at_us,
            actor,
            event,
        }
    }

    /// The header followed by the payload's canonical JSON.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let payload = self.event.canonical_json();
        let kind = self.event.kind();
        let mut bytes = Vec::with_capacity(
            EVENT_MAGIC.len() + 20 + self.actor.len() + kind.len() + payload.len(),
        );
        bytes.extend_from_slice(EVENT_MAGIC);
        bytes.extend_from_slice(&self.seq.to_be_bytes());
        bytes.extend_from_slice(&self.at_us.to_be_bytes());
        for text in [self.actor.as_str(), kind] {
            let length = u16::try_from(text.len()).expect("header texts are short");
            bytes.extend_from_slice(&length.to_be_bytes());
            bytes.extend_from_slice(text.as_bytes());
        }
        bytes.extend_from_slice(&payload);
        bytes
    }

    /// Decodes stored bytes, refusing any that are not exactly the canonical encoding.
    pub fn from_canonical_bytes(bytes: &[u8]) -> Result<Self, EventDecodeError> {
        let header = EventHeader::parse(bytes)?;
        let event: EventPayload = serde_json::from_slice(header.payload)
            .map_err(|error| EventDecodeError::Malformed(error.to_string()))?;
        if event.kind() != header.kind {
            return Err(EventDecodeError::KindMismatch {
                header: header.kind.to_owned(),
                payload: event.kind().to_owned(),
            });
        }
        if event.canonical_json() != header.payload {
            return Err(EventDecodeError::NotCanonical);
        }
        Ok(Self {
            seq: header.seq,
            at_us: header.at_us,
            actor: header.actor.to_owned(),
            event,
        })
    }

    /// The event as JSON for people and exports: the header fields and the payload.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"seq": self.seq, "at_us": self.at_us, "actor": self.actor, "event": self.event})
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
    fn canonical_bytes_have_a_binary_header_and_sorted_json_and_round_trip() {
        let bytes = sample().canonical_bytes();
        let header = EventHeader::parse(&bytes).unwrap();
        assert_eq!(
            (header.seq, header.at_us, header.actor, header.kind),
            (7, 1_764_720_000_000_000, "operator", "pledge_committed")
        );
        assert_eq!(
            std::str::from_utf8(header.payload).unwrap(),
            r#"{"on":"2025-12-03","reference":"NLD-1","type":"pledge_committed"}"#
        );
        assert!(bytes.starts_with(b"purl-event/1\n\0\0\0\0\0\0\0\x07"));
        assert_eq!(Event::from_canonical_bytes(&bytes).unwrap(), sample());
    }

    #[test]
    fn non_canonical_or_inconsistent_bytes_are_refused() {
        let bytes = sample().canonical_bytes();
        let payload_at = bytes.len() - EventHeader::parse(&bytes).unwrap().payload.len();
        let with_payload = |payload: &str| [&bytes[..payload_at], payload.as_bytes()].concat();
        let payload = std::str::from_utf8(&bytes[payload_at..]).unwrap();
        let spaced = with_payload(&payload.replace(',', ", "));
        assert_eq!(
            Event::from_canonical_bytes(&spaced),
            Err(EventDecodeError::NotCanonical)
        );
        let other_kind = with_payload(&payload.replace("pledge_committed", "pledge_withdrawn"));
        assert!(matches!(
            Event::from_canonical_bytes(&other_kind),
            Err(EventDecodeError::KindMismatch { .. })
        ));
        assert_eq!(
            Event::from_canonical_bytes(&bytes[1..]),
            Err(EventDecodeError::UnknownFormat)
        );
        for cut in [13, 20, 30, 35, payload_at + 3] {
            assert!(
                Event::from_canonical_bytes(&bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn kind_is_the_payload_type_tag() {
        let payload = sample().event;
        let json: serde_json::Value = serde_json::from_slice(&payload.canonical_json()).unwrap();
        assert_eq!(json["type"], payload.kind());
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

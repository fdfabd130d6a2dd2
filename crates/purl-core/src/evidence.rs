//! Evidence bundles: a participant's own events (bytes and salt, so it can read them), each with
//! its inclusion proof in a signed checkpoint. Everything else in the ledger stays an opaque salted
//! hash inside the proofs, so a bundle shows one party nothing of another's.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{Checkpoint, NoteError, VerifierKey};
use crate::event::{leaf_hash, Event, EventPayload};
use crate::ids::ParticipantCode;
use crate::merkle::{verify_inclusion, Hash};
use crate::state::State;

pub const EVIDENCE_FORMAT: &str = "purl-evidence/1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceBundle {
    pub format: String,
    /// Whose records these are.
    pub participant: String,
    /// The signed checkpoint every proof leads to.
    pub checkpoint: String,
    pub entries: Vec<EvidenceEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceEntry {
    pub seq: u64,
    /// The event's canonical bytes, base64.
    pub event: String,
    /// The event's salt, hex.
    pub salt: String,
    /// The inclusion proof of leaf `seq - 1`, base64 hashes.
    pub proof: Vec<String>,
}

impl EvidenceEntry {
    pub fn new(seq: u64, bytes: &[u8], salt: &[u8], proof: &[Hash]) -> Self {
        Self {
            seq,
            event: BASE64.encode(bytes),
            salt: hex::encode(salt),
            proof: proof.iter().map(|hash| BASE64.encode(hash)).collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    #[error("bundle format '{0}' is unknown")]
    Format(String),
    #[error(transparent)]
    Checkpoint(#[from] NoteError),
    #[error("entry for event {seq}: {reason}")]
    Entry { seq: u64, reason: String },
}

/// Checks the checkpoint's signature and every entry's inclusion in it; returns the checkpoint
/// and the decoded events.
pub fn verify_bundle(
    bundle: &EvidenceBundle,
    key: &VerifierKey,
) -> Result<(Checkpoint, Vec<Event>), EvidenceError> {
    if bundle.format != EVIDENCE_FORMAT {
        return Err(EvidenceError::Format(bundle.format.clone()));
    }
    let checkpoint = key.open(&bundle.checkpoint)?;
    let mut events = Vec::with_capacity(bundle.entries.len());
    for entry in &bundle.entries {
        let fail = |reason: String| EvidenceError::Entry {
            seq: entry.seq,
            reason,
        };
        let bytes = BASE64
            .decode(&entry.event)
            .map_err(|e| fail(format!("event bytes: {e}")))?;
        let salt = hex::decode(&entry.salt).map_err(|e| fail(format!("salt: {e}")))?;
        let proof = entry
            .proof
            .iter()
            .map(|hash| {
                BASE64
                    .decode(hash)
                    .ok()
                    .and_then(|bytes| Hash::try_from(bytes).ok())
            })
            .collect::<Option<Vec<Hash>>>()
            .ok_or_else(|| fail("a proof hash is not 32 bytes of base64".into()))?;
        let event = Event::from_canonical_bytes(&bytes).map_err(|e| fail(e.to_string()))?;
        if event.seq != entry.seq || entry.seq == 0 {
            return Err(fail(format!(
                "the event's bytes say it is event {}",
                event.seq
            )));
        }
        verify_inclusion(
            &leaf_hash(&bytes, &salt),
            entry.seq - 1,
            checkpoint.size,
            &proof,
            &checkpoint.root,
        )
        .map_err(|e| fail(format!("not in the checkpoint's tree: {e}")))?;
        events.push(event);
    }
    Ok((checkpoint, events))
}

/// Whether `event` is about `participant`'s own records: the participant itself and its users,
/// pledges naming it, their payments and contributions, and the packages those pledges fund.
/// Judged on the current `state`, which knows who every pledge and package belongs to.
pub fn concerns(state: &State, participant: &ParticipantCode, event: &EventPayload) -> bool {
    use EventPayload as E;
    let names = |reference: &crate::ids::Reference| {
        state
            .pledges
            .get(reference)
            .is_some_and(|p| p.contributors.contains(participant))
    };
    let funds = |number: &u32| {
        state
            .packages
            .get(number)
            .is_some_and(|package| package.contributions.iter().any(|c| names(&c.pledge)))
    };
    match event {
        E::ParticipantAdded { participant: added } => &added.code == participant,
        E::UserAdded { user } => &user.participant == participant,
        E::UserRolesSet { username, .. } | E::UserActiveSet { username, .. } => state
            .users
            .get(username)
            .is_some_and(|u| &u.participant == participant),
        E::PledgeRecorded { pledge } => pledge.contributors.contains(participant),
        E::PledgeCommitted { reference, .. }
        | E::PledgeWithdrawn { reference, .. }
        | E::PledgePublicitySet { reference, .. }
        | E::PledgeAmountSet { reference, .. } => names(reference),
        E::PaymentRecorded { payment } => names(&payment.pledge),
        E::ContributionAllocated { contribution, .. } => names(&contribution.pledge),
        E::PackageCreated { number, .. }
        | E::PackageLineAdded { number, .. }
        | E::PackageStatusChanged { number, .. } => funds(number),
        E::DeliveryShipped { delivery } => funds(&delivery.package),
        E::DeliveryReceived { id, .. } => {
            state.deliveries.get(id).is_some_and(|d| funds(&d.package))
        }
        E::ItemAdded { .. }
        | E::ItemPriced { .. }
        | E::ListCreated { .. }
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
        | E::ListVersionSuperseded { .. }
        | E::RatesRecorded { .. }
        | E::GdpRecorded { .. }
        // An allocation names every contributor's money: it is no one participant's own record.
        | E::AllocationCommitted { .. } => false,
    }
}

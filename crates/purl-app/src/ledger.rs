//! The Merkle tree over the ledger: the frontier for appends, signed checkpoints, inclusion and
//! consistency proofs, and evidence bundles for one participant.

use std::collections::HashMap;

use purl_core::checkpoint::{Checkpoint, SignerKey, VerifierKey};
use purl_core::event::Event;
use purl_core::evidence::{concerns, EvidenceBundle, EvidenceEntry, EVIDENCE_FORMAT};
use purl_core::ids::ParticipantCode;
use purl_core::limits::{CHECKPOINT_EVENTS_MAX, CHECKPOINT_INTERVAL_S};
use purl_core::merkle::{self, Hash, NodeId};
use purl_store::{Store, StoreError, StoredCheckpoint};
use serde::Serialize;

use crate::{App, AppError};

/// The setting that holds the checkpoint verifier key.
pub const VERIFIER_KEY_SETTING: &str = "checkpoint_verifier_key";
/// Leaf hashes read per page when recomputing a root.
const LEAF_PAGE: u32 = 50_000;

/// A consistency proof between two tree sizes, as handed to an auditor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ConsistencyProof {
    pub old_size: u64,
    pub new_size: u64,
    /// Base64 hashes.
    pub proof: Vec<String>,
}

/// An event's bytes and salt, for a reader who may see it: with them, the leaf hash of an
/// inclusion proof can be recomputed and the event read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LeafOpening {
    /// The canonical event bytes, base64.
    pub event: String,
    /// Hex.
    pub salt: String,
}

/// An inclusion proof of one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct InclusionProof {
    pub seq: u64,
    pub leaf_index: u64,
    pub tree_size: u64,
    /// Hex.
    pub leaf_hash: String,
    /// Base64 hashes.
    pub proof: Vec<String>,
    /// The event itself, when the reader may see it; otherwise it stays an opaque hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening: Option<LeafOpening>,
}

/// The hashes of a proof as handed out (base64), or what is wrong with one.
pub fn decode_hashes(proof: &[String]) -> Result<Vec<Hash>, String> {
    use base64::Engine as _;
    proof
        .iter()
        .map(|hash| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(hash)
                .map_err(|e| format!("proof hash: {e}"))?;
            Hash::try_from(bytes).map_err(|_| "a proof hash is not 32 bytes".to_owned())
        })
        .collect()
}

fn base64(hash: &Hash) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(hash)
}

impl<S: Store> App<S> {
    /// The stored nodes a computation needs, fetched once; a missing one means a broken tree.
    async fn fetch_nodes(&self, ids: Vec<NodeId>) -> Result<HashMap<NodeId, Hash>, AppError> {
        let found: HashMap<NodeId, Hash> = self.store.tree_nodes(&ids).await?.into_iter().collect();
        if let Some(missing) = ids.iter().find(|id| !found.contains_key(id)) {
            return Err(StoreError::Corrupt {
                detail: format!(
                    "the Merkle tree has no node at level {} index {}",
                    missing.level, missing.index
                ),
            }
            .into());
        }
        Ok(found)
    }

    pub(crate) async fn frontier(&self, size: u64) -> Result<HashMap<NodeId, Hash>, AppError> {
        self.fetch_nodes(merkle::frontier(size)).await
    }

    /// The root of the first `size` leaves, from the stored tree (O(log n) nodes).
    pub async fn tree_root(&self, size: u64) -> Result<Hash, AppError> {
        let nodes = self
            .fetch_nodes(merkle::nodes_read(|get| {
                merkle::root(size, get);
            }))
            .await?;
        Ok(merkle::root(size, &|id| nodes[&id]))
    }

    /// The root recomputed from every event's stored leaf hash, trusting no stored node.
    pub async fn root_from_events(&self, size: u64) -> Result<Hash, AppError> {
        let mut leaves = Vec::new();
        let mut after = 0;
        while after < size {
            let page = self.store.leaf_hashes(after, LEAF_PAGE).await?;
            let Some(&(last, _)) = page.last() else { break };
            leaves.extend(
                page.into_iter()
                    .filter(|(seq, _)| *seq <= size)
                    .map(|(_, hash)| hash),
            );
            after = last;
        }
        if leaves.len() as u64 != size {
            return Err(StoreError::Corrupt {
                detail: format!("{} leaves found for a tree of {size}", leaves.len()),
            }
            .into());
        }
        Ok(merkle::root_of(&leaves))
    }

    pub async fn inclusion_proof(&self, seq: u64, size: u64) -> Result<InclusionProof, AppError> {
        let head = self.store.head().await?;
        if seq == 0 || seq > size || size > head {
            return Err(AppError::NotFound(format!(
                "event {seq} in a tree of {size} (the ledger has {head})"
            )));
        }
        let index = seq - 1;
        let nodes = self
            .fetch_nodes(merkle::nodes_read(|get| {
                merkle::inclusion_proof(index, size, get);
                get(NodeId { level: 0, index });
            }))
            .await?;
        let proof = merkle::inclusion_proof(index, size, &|id| nodes[&id]);
        let leaf = nodes[&NodeId { level: 0, index }];
        Ok(InclusionProof {
            seq,
            leaf_index: index,
            tree_size: size,
            leaf_hash: hex::encode(leaf),
            proof: proof.iter().map(base64).collect(),
            opening: None,
        })
    }

    /// An inclusion proof for `reader`, with the event opened if the reader may see it (the
    /// opening is logged as a read of confidential data).
    pub async fn inclusion_proof_for(
        &self,
        reader: &crate::access_log::Reader<'_>,
        seq: u64,
        size: u64,
    ) -> Result<InclusionProof, AppError> {
        let mut proof = self.inclusion_proof(seq, size).await?;
        let stored = self.store.events(seq - 1, 1).await?;
        let Some(stored) = stored.into_iter().next().filter(|e| e.seq == seq) else {
            return Ok(proof);
        };
        let event =
            Event::from_canonical_bytes(&stored.bytes).map_err(|e| StoreError::Corrupt {
                detail: format!("event {seq}: {e}"),
            })?;
        let state = self.state().await?;
        if purl_core::access::may_open_event(reader.actor, &state, &event.event) {
            use base64::Engine as _;
            proof.opening = Some(LeafOpening {
                event: base64::engine::general_purpose::STANDARD.encode(&stored.bytes),
                salt: hex::encode(&stored.salt),
            });
            self.log_access(
                reader,
                format!("open ledger event {seq}"),
                crate::access_log::Outcome::Allowed,
                1,
            )
            .await?;
        }
        Ok(proof)
    }

    /// The evidence of `participant`'s records for `reader`, who must be allowed it
    /// (`access::evidence_of`); anyone else is told the participant does not exist.
    pub async fn evidence_for(
        &self,
        reader: &crate::access_log::Reader<'_>,
        participant: &str,
        size: Option<u64>,
    ) -> Result<EvidenceBundle, AppError> {
        let code = ParticipantCode::parse(participant).ok();
        let allowed = code
            .as_ref()
            .is_some_and(|code| purl_core::access::evidence_of(reader.actor, code));
        let action = format!("export evidence of {participant}");
        let Some(code) = code.filter(|_| allowed) else {
            self.log_access(reader, action, crate::access_log::Outcome::Denied, 0)
                .await?;
            return Err(AppError::NotFound(format!(
                "participant '{participant}' does not exist"
            )));
        };
        let bundle = self.evidence(&code, size).await?;
        self.log_access(
            reader,
            action,
            crate::access_log::Outcome::Allowed,
            bundle.entries.len() as u64,
        )
        .await?;
        Ok(bundle)
    }

    pub async fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, AppError> {
        let head = self.store.head().await?;
        if old_size == 0 || old_size > new_size || new_size > head {
            return Err(AppError::Invalid(format!(
                "a consistency proof needs 0 < old size ≤ new size ≤ {head}; got {old_size} and {new_size}"
            )));
        }
        let nodes = self
            .fetch_nodes(merkle::nodes_read(|get| {
                merkle::consistency_proof(old_size, new_size, get);
            }))
            .await?;
        let proof = merkle::consistency_proof(old_size, new_size, &|id| nodes[&id]);
        Ok(ConsistencyProof {
            old_size,
            new_size,
            proof: proof.iter().map(base64).collect(),
        })
    }

    /// Signs a checkpoint of the whole ledger now, unless the latest already covers it. The root is
    /// recomputed from the events' leaf hashes, and a stored tree that disagrees is reported.
    pub async fn sign_checkpoint(&self, signer: &SignerKey) -> Result<StoredCheckpoint, AppError> {
        let head = self.store.head().await?;
        if let Some(latest) = self.store.checkpoints().await?.pop() {
            if latest.size == head {
                return Ok(latest);
            }
        }
        let root = self.root_from_events(head).await?;
        let stored = self.tree_root(head).await?;
        if stored != root {
            tracing::error!(
                size = head,
                "the stored Merkle tree disagrees with the events; `purl verify` names the event"
            );
        }
        let checkpoint = Checkpoint {
            origin: signer.name().to_owned(),
            size: head,
            root,
        };
        let stored = StoredCheckpoint {
            size: head,
            root,
            note: signer.sign(&checkpoint),
            at_us: self.clock.now_us(),
        };
        self.store.add_checkpoint(stored.clone()).await?;
        tracing::info!(size = head, "checkpoint signed");
        Ok(stored)
    }

    /// Signs a checkpoint if `CHECKPOINT_EVENTS_MAX` events are unsigned or the oldest unsigned
    /// event is older than `CHECKPOINT_INTERVAL_S`.
    pub async fn maybe_checkpoint(
        &self,
        signer: &SignerKey,
    ) -> Result<Option<StoredCheckpoint>, AppError> {
        let head = self.store.head().await?;
        let latest = self.store.checkpoints().await?.pop();
        let signed = latest.as_ref().map_or(0, |c| c.size);
        if head == signed {
            return Ok(None);
        }
        let first_unsigned = self.store.events(signed, 1).await?;
        let waited_s = first_unsigned
            .first()
            .map_or(0, |event| (self.clock.now_us() - event.at_us) / 1_000_000);
        if head - signed >= CHECKPOINT_EVENTS_MAX
            || waited_s >= CHECKPOINT_INTERVAL_S
            || latest.is_none()
        {
            return self.sign_checkpoint(signer).await.map(Some);
        }
        Ok(None)
    }

    pub async fn checkpoint_at(&self, size: Option<u64>) -> Result<StoredCheckpoint, AppError> {
        let checkpoints = self.store.checkpoints().await?;
        let found = match size {
            Some(size) => checkpoints.into_iter().find(|c| c.size == size),
            None => checkpoints.into_iter().last(),
        };
        found.ok_or_else(|| {
            AppError::NotFound(match size {
                Some(size) => format!("no checkpoint of size {size}"),
                None => "no checkpoint yet; sign one with `purl checkpoint create`".to_owned(),
            })
        })
    }

    pub async fn verifier_key(&self) -> Result<Option<VerifierKey>, AppError> {
        match self.store.setting(VERIFIER_KEY_SETTING).await? {
            None => Ok(None),
            Some(text) => VerifierKey::parse(&text).map(Some).map_err(|e| {
                StoreError::Corrupt {
                    detail: format!("stored verifier key: {e}"),
                }
                .into()
            }),
        }
    }

    /// The evidence for `participant`'s own records in the checkpoint of `size` (default: latest).
    pub async fn evidence(
        &self,
        participant: &ParticipantCode,
        size: Option<u64>,
    ) -> Result<EvidenceBundle, AppError> {
        let state = self.state().await?;
        if !state.participants.contains_key(participant) {
            return Err(AppError::NotFound(format!(
                "participant '{participant}' does not exist"
            )));
        }
        let checkpoint = self.checkpoint_at(size).await?;
        let mut chosen = Vec::new();
        let mut after = 0;
        while after < checkpoint.size {
            let page = self.store.events(after, 5_000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for stored in page.into_iter().filter(|e| e.seq <= checkpoint.size) {
                let event = Event::from_canonical_bytes(&stored.bytes).map_err(|e| {
                    StoreError::Corrupt {
                        detail: format!("event {}: {e}", stored.seq),
                    }
                })?;
                if concerns(&state, participant, &event.event) {
                    chosen.push(stored);
                }
            }
        }
        let size = checkpoint.size;
        let nodes = self
            .fetch_nodes(merkle::nodes_read(|get| {
                for stored in &chosen {
                    merkle::inclusion_proof(stored.seq - 1, size, get);
                }
            }))
            .await?;
        let entries = chosen
            .iter()
            .map(|stored| {
                let proof = merkle::inclusion_proof(stored.seq - 1, size, &|id| nodes[&id]);
                EvidenceEntry::new(stored.seq, &stored.bytes, &stored.salt, &proof)
            })
            .collect();
        Ok(EvidenceBundle {
            format: EVIDENCE_FORMAT.to_owned(),
            participant: participant.to_string(),
            checkpoint: checkpoint.note,
            entries,
        })
    }
}

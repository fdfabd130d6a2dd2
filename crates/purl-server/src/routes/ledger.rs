//! The tamper-evident ledger for auditors: the verifier key, signed checkpoints, inclusion and
//! consistency proofs, and evidence bundles, each scoped by need-to-know. `purl audit` checks what
//! these answer offline, with only the verifier key.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use purl_app::ledger::{ConsistencyProof, InclusionProof};
use purl_core::evidence::EvidenceBundle;
use purl_store::Store;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Record;
use crate::identity::Caller;
use crate::input::PageQuery;
use crate::problem::{ApiProblem, Problem};
use crate::Ctx;

pub fn router() -> OpenApiRouter<Ctx> {
    OpenApiRouter::new()
        .routes(routes!(verifier_key))
        .routes(routes!(list_checkpoints))
        .routes(routes!(checkpoint_note))
        .routes(routes!(inclusion))
        .routes(routes!(consistency))
        .routes(routes!(evidence))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Key {
    /// The C2SP note verifier key (`name+hash+base64`): all an auditor needs to check checkpoints.
    pub verifier_key: String,
}

/// The key that verifies the ledger's checkpoints. Public: it proves nothing by itself.
#[utoipa::path(get, path = "/ledger/key", tag = "ledger", security(()),
    responses((status = 200, body = Key), (status = 404, body = ApiProblem)))]
async fn verifier_key(State(ctx): State<Ctx>, caller: Caller) -> Result<Json<Key>, Problem> {
    let key = ctx
        .app
        .verifier_key()
        .await
        .map_err(|e| caller.problem(e))?;
    let key = key.ok_or_else(|| Problem::not_found("this installation has no checkpoint key"))?;
    Ok(Json(Key {
        verifier_key: key.encode(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointInfo {
    pub size: u64,
    /// Hex.
    pub root: String,
    /// The signed note, as `purl audit checkpoint` reads it.
    pub note: String,
    pub at_us: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointList {
    pub items: Vec<CheckpointInfo>,
    pub total: usize,
    pub next_offset: Option<usize>,
}

/// The signed checkpoints, oldest first.
#[utoipa::path(get, path = "/ledger/checkpoints", tag = "ledger", params(PageQuery),
    responses((status = 200, body = CheckpointList), (status = 401, body = ApiProblem)))]
async fn list_checkpoints(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> Result<Json<CheckpointList>, Problem> {
    caller.signed_in()?;
    let page = page.page()?;
    let all = ctx
        .app
        .store()
        .checkpoints()
        .await
        .map_err(|e| caller.problem(e.into()))?;
    let total = all.len();
    let items: Vec<CheckpointInfo> = all
        .into_iter()
        .skip(page.offset)
        .take(page.limit)
        .map(|c| CheckpointInfo {
            size: c.size,
            root: hex::encode(c.root),
            note: c.note,
            at_us: c.at_us,
        })
        .collect();
    let next_offset = (page.offset + items.len() < total).then_some(page.offset + items.len());
    Ok(Json(CheckpointList {
        items,
        total,
        next_offset,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SizeQuery {
    /// The tree size of the checkpoint (default: the latest).
    pub size: Option<u64>,
}

/// One signed checkpoint as a C2SP note (`text/plain`), ready for `purl audit checkpoint`.
#[utoipa::path(get, path = "/ledger/checkpoint", tag = "ledger", params(SizeQuery),
    responses((status = 200, content_type = "text/plain", body = String), (status = 401, body = ApiProblem), (status = 404, body = ApiProblem)))]
async fn checkpoint_note(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(query): Query<SizeQuery>,
) -> Result<Response, Problem> {
    caller.signed_in()?;
    let checkpoint = ctx
        .app
        .checkpoint_at(query.size)
        .await
        .map_err(|e| caller.problem(e))?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        checkpoint.note,
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    /// The event's sequence number.
    pub seq: u64,
    /// The tree size (a checkpoint's); default: the latest checkpoint.
    pub size: Option<u64>,
}

async fn size_or_latest(ctx: &Ctx, caller: &Caller, size: Option<u64>) -> Result<u64, Problem> {
    match size {
        Some(size) => Ok(size),
        None => ctx
            .app
            .checkpoint_at(None)
            .await
            .map(|c| c.size)
            .map_err(|e| caller.problem(e)),
    }
}

/// That event `seq` is in the tree of `size`: the leaf hash and its audit path. The event's bytes
/// and salt come with it only for a caller who may see that event.
#[utoipa::path(get, path = "/ledger/proofs/inclusion", tag = "ledger", params(InclusionQuery),
    responses((status = 200, body = Record), (status = 401, body = ApiProblem), (status = 404, body = ApiProblem)))]
async fn inclusion(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(query): Query<InclusionQuery>,
) -> Result<Json<InclusionProof>, Problem> {
    caller.signed_in()?;
    let size = size_or_latest(&ctx, &caller, query.size).await?;
    ctx.app
        .inclusion_proof_for(&caller.reader(), query.seq, size)
        .await
        .map(Json)
        .map_err(|e| caller.problem(e))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The older tree size.
    pub from: u64,
    /// The newer tree size (default: the latest checkpoint).
    pub to: Option<u64>,
}

/// That the tree of size `to` extends the tree of size `from` (for `purl audit consistency`).
#[utoipa::path(get, path = "/ledger/proofs/consistency", tag = "ledger", params(ConsistencyQuery),
    responses((status = 200, body = Record), (status = 401, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn consistency(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(query): Query<ConsistencyQuery>,
) -> Result<Json<ConsistencyProof>, Problem> {
    caller.signed_in()?;
    let to = size_or_latest(&ctx, &caller, query.to).await?;
    ctx.app
        .consistency_proof(query.from, to)
        .await
        .map(Json)
        .map_err(|e| caller.problem(e))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvidenceQuery {
    /// Whose records: the caller's own participant (the coordinator: any).
    pub participant: String,
    /// The checkpoint's tree size (default: the latest).
    pub size: Option<u64>,
}

/// The evidence bundle of a participant's records: each of its events, readable, with its
/// inclusion proof in a signed checkpoint; everything else stays an opaque hash. For
/// `purl audit evidence`.
#[utoipa::path(get, path = "/ledger/evidence", tag = "ledger", params(EvidenceQuery),
    responses((status = 200, body = Record), (status = 401, body = ApiProblem), (status = 404, body = ApiProblem)))]
async fn evidence(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(query): Query<EvidenceQuery>,
) -> Result<Json<EvidenceBundle>, Problem> {
    caller.signed_in()?;
    ctx.app
        .evidence_for(&caller.reader(), &query.participant, query.size)
        .await
        .map(Json)
        .map_err(|e| caller.problem(e))
}

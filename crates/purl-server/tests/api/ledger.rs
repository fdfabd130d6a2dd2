//! The ledger for auditors through the API: checkpoints, evidence, inclusion and consistency
//! proofs, each verified offline with only the verifier key, and scoped by need-to-know.

use base64::Engine as _;
use purl_core::checkpoint::VerifierKey;
use purl_core::evidence::{verify_bundle, EvidenceBundle};
use purl_core::merkle::{verify_consistency, verify_inclusion, Hash};
use serde_json::json;

use crate::round;
use crate::support::*;

fn hashes(value: &serde_json::Value) -> Vec<Hash> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(h.as_str().unwrap())
                .unwrap();
            Hash::try_from(bytes.as_slice()).unwrap()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_verifies_a_contributors_records_and_that_the_ledger_only_grew() {
    let Some(server) = Server::start().await else {
        return;
    };
    round::play(&server).await;
    let key = server.get(None, "/api/v1/ledger/key").await.expect(200);
    let key = VerifierKey::parse(key.json["verifier_key"].as_str().unwrap()).unwrap();

    // The first checkpoint was signed at set-up; sign one now, as after a quiet spell.
    let signer = purl_core::checkpoint::SignerKey::from_seed("purl.test/ledger", [7; 32]).unwrap();
    server.ctx.app.sign_checkpoint(&signer).await.unwrap();
    let first = server
        .get(Some(FUNDER), "/api/v1/ledger/checkpoint")
        .await
        .expect(200);
    let first = key
        .open(&first.text)
        .expect("a checkpoint signed by the ledger's key");

    let bundle = server
        .get(Some(FUNDER), "/api/v1/ledger/evidence?participant=NLD")
        .await
        .expect(200);
    let parsed: EvidenceBundle = serde_json::from_value(bundle.json.clone()).unwrap();
    let (checkpoint, events) = verify_bundle(&parsed, &key).expect("the evidence verifies offline");
    assert_eq!(checkpoint, first);
    assert!(
        events.iter().any(|e| matches!(
            e.event,
            purl_core::event::EventPayload::PledgeRecorded { .. }
        )),
        "{events:?}"
    );
    for secret in ["DEU", "NORDIC-2026-1", "IFAK", "nor.fd"] {
        let readable: Vec<String> = events.iter().map(|e| format!("{:?}", e.event)).collect();
        assert!(
            readable.iter().all(|text| !text.contains(secret)),
            "NLD's evidence shows nothing of '{secret}'"
        );
    }
    // Only NLD (and the coordinator) get NLD's evidence.
    server
        .get(Some(OTHER), "/api/v1/ledger/evidence?participant=NLD")
        .await
        .expect(404);
    server
        .get(Some(AUDITOR), "/api/v1/ledger/evidence?participant=NLD")
        .await
        .expect(404);
    server
        .get(Some(COORDINATOR), "/api/v1/ledger/evidence?participant=NLD")
        .await
        .expect(200);
    server
        .get(None, "/api/v1/ledger/evidence?participant=NLD")
        .await
        .expect(401);

    // An inclusion proof: opened for whom the event concerns, an opaque hash for others.
    let seq = parsed.entries[0].seq;
    let size = first.size;
    let path = format!("/api/v1/ledger/proofs/inclusion?seq={seq}&size={size}");
    let own = server.get(Some(FUNDER), &path).await.expect(200);
    assert!(own.json["opening"]["event"].is_string(), "{}", own.text);
    let other = server.get(Some(OTHER), &path).await.expect(200);
    assert!(other.json.get("opening").is_none(), "{}", other.text);
    let leaf = hex::decode(other.json["leaf_hash"].as_str().unwrap()).unwrap();
    verify_inclusion(
        &leaf,
        seq - 1,
        size,
        &hashes(&other.json["proof"]),
        &first.root,
    )
    .expect("the proof leads to the signed root");

    // More events, a second checkpoint, and a consistency proof between the two.
    server
        .post(
            Some(FUNDER),
            "/api/v1/pledges",
            json!({"reference": "NLD-2026-2", "contributors": ["NLD"], "amount": "1.00",
                   "currency": "EUR", "announced_on": "2026-11-20"}),
        )
        .await
        .expect(201);
    server.ctx.app.sign_checkpoint(&signer).await.unwrap();
    let second = server
        .get(Some(AUDITOR), "/api/v1/ledger/checkpoint")
        .await
        .expect(200);
    let second = key.open(&second.text).unwrap();
    assert!(second.size > first.size);
    let proof = server
        .get(
            Some(AUDITOR),
            &format!(
                "/api/v1/ledger/proofs/consistency?from={}&to={}",
                first.size, second.size
            ),
        )
        .await
        .expect(200);
    verify_consistency(
        first.size,
        second.size,
        &first.root,
        &second.root,
        &hashes(&proof.json["proof"]),
    )
    .expect("the newer tree extends the older");
    let listed = server
        .get(Some(AUDITOR), "/api/v1/ledger/checkpoints")
        .await
        .expect(200);
    assert!(listed.json["total"].as_u64().unwrap() >= 3);
    let log = server
        .get(Some(AUDITOR), "/api/v1/access-log?limit=1000")
        .await
        .expect(200);
    assert!(
        log.text.contains("export evidence of NLD"),
        "evidence exports are in the access log"
    );
    server.finish().await;
}

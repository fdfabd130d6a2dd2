//! Writes the seed inputs of every fuzz target into `fuzz/corpus/<target>/` (valid files of each
//! kind, signed notes, true proofs, an evidence bundle, request bodies), from which `cargo fuzz`
//! starts. Run: `cargo run -p purl-fuzz --example seed_corpus`.

use std::path::PathBuf;

use base64::Engine as _;
use purl_app::import::{template, ImportKind};
use purl_app::ledger::{ConsistencyProof, InclusionProof};
use purl_core::checkpoint::Checkpoint;
use purl_core::event::{leaf_hash, Event, EventPayload};
use purl_core::evidence::{EvidenceBundle, EvidenceEntry, EVIDENCE_FORMAT};
use purl_core::ids::Period;
use purl_core::merkle::{self, Hash};
use purl_fuzz::{signer, KEY_NAME, PERIOD};

fn main() -> std::io::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let write = |target: &str, name: &str, bytes: &[u8]| -> std::io::Result<()> {
        let folder = root.join(target);
        std::fs::create_dir_all(&folder)?;
        std::fs::write(folder.join(name), bytes)
    };
    let csv = [
        "reference,contributors,amount,currency,announced_on,status,part_of,categories,lethal_allowed,package,conditions,public,note\nNLD-2,NLD,1000.50,EUR,2026-11-01,committed,,medical,false,,,true,a note\nNLD-3,NLD,=1+1,EUR,2026-13-01,announced,NLD-1,,true,,,false,\n",
        "pledge_reference,amount,currency,received_on,note\nNLD-1,500000.00,EUR,2026-11-20,first tranche\nNLD-9,1,USD,2026-11-20,\n",
        "date,currency,usd_per_unit\n2026-11-03,EUR,1.0812\n2026-11-03,GBP,N/A\n",
        "Country Code,Year,Value\nNLD,2025,1100000000000\nDEU,2025,4.5e12\n",
        "rank,item_code,item_name,category,lethal,unit_price_usd,quantity,needed_by,justification\n1,IFAK,First aid kit,medical,false,150,1000,2027-03-01,frontline\n2,NEW,New thing,armour,true,1.5,0,2027-02-30,\n",
    ];
    let period = Period::parse(PERIOD).expect("a period");
    let kinds = [
        ImportKind::Pledges,
        ImportKind::Payments,
        ImportKind::Fx,
        ImportKind::Gdp,
        ImportKind::Requirements { period },
    ];
    for (index, (kind, text)) in kinds.iter().zip(csv).enumerate() {
        let choice = u8::try_from(index).expect("five kinds");
        write(
            "import",
            &format!("{}-csv", kind.name()),
            &[&[choice], text.as_bytes()].concat(),
        )?;
        let book = template::workbook(*kind).expect("a template");
        write(
            "import",
            &format!("{}-xlsx", kind.name()),
            &[&[choice + 5], &book[..]].concat(),
        )?;
    }

    let leaves: Vec<Hash> = (0u8..16).map(|n| merkle::hash_leaf(&[n])).collect();
    let node = |id: merkle::NodeId| {
        let width = 1usize << id.level;
        let start = usize::try_from(id.index).expect("small") * width;
        merkle::root_of(&leaves[start..start + width])
    };
    let base64 = |hash: &Hash| base64::engine::general_purpose::STANDARD.encode(hash);
    let consistency = ConsistencyProof {
        old_size: 3,
        new_size: 7,
        proof: merkle::consistency_proof(3, 7, &node)
            .iter()
            .map(base64)
            .collect(),
    };
    write(
        "proof",
        "consistency-3-7",
        &serde_json::to_vec(&consistency)?,
    )?;
    let inclusion = InclusionProof {
        seq: 6,
        leaf_index: 5,
        tree_size: 16,
        leaf_hash: hex(&leaves[5]),
        proof: merkle::inclusion_proof(5, 16, &node)
            .iter()
            .map(base64)
            .collect(),
        opening: None,
    };
    write("proof", "inclusion-5-16", &serde_json::to_vec(&inclusion)?)?;

    let signer = signer();
    let note = signer.sign(&Checkpoint {
        origin: KEY_NAME.into(),
        size: 16,
        root: merkle::root_of(&leaves),
    });
    write(
        "checkpoint",
        "key-and-note",
        format!("{}\0{note}", signer.verifier().encode()).as_bytes(),
    )?;

    let events: Vec<Event> = (1u64..=5)
        .map(|seq| {
            Event::new(
                seq,
                1_764_000_000_000_000,
                "operator".into(),
                EventPayload::ListCreated {
                    period: Period::parse(&format!("2027-0{seq}")).expect("a period"),
                },
            )
        })
        .collect();
    let salts: Vec<[u8; 16]> = (0u8..5).map(|n| [n; 16]).collect();
    let tree: Vec<Hash> = events
        .iter()
        .zip(&salts)
        .map(|(event, salt)| leaf_hash(&event.canonical_bytes(), salt))
        .collect();
    let tree_node = |id: merkle::NodeId| {
        let width = 1usize << id.level;
        let start = usize::try_from(id.index).expect("small") * width;
        merkle::root_of(&tree[start..start + width])
    };
    let bundle = EvidenceBundle {
        format: EVIDENCE_FORMAT.into(),
        participant: "UKR".into(),
        checkpoint: signer.sign(&Checkpoint {
            origin: KEY_NAME.into(),
            size: 5,
            root: merkle::root_of(&tree),
        }),
        entries: events
            .iter()
            .zip(&salts)
            .map(|(event, salt)| {
                EvidenceEntry::new(
                    event.seq,
                    &event.canonical_bytes(),
                    salt,
                    &merkle::inclusion_proof(event.seq - 1, 5, &tree_node),
                )
            })
            .collect(),
    };
    write(
        "evidence",
        "five-events",
        &serde_json::to_vec_pretty(&bundle)?,
    )?;

    let bodies = [
        r#"{"reference":"NLD-5","contributors":["NLD"],"amount":"1000.00","currency":"EUR","announced_on":"2026-11-01"}"#,
        r#"{"pledge":"NLD-1","amount":"10.00","currency":"EUR","received_on":"2026-11-20","note":"x"}"#,
        r#"{"period":"2027-04"}"#,
        r#"{"item":"IFAK","quantity":5,"needed_by":"2027-03-01","justification":"<script>alert(1)</script>"}"#,
        r#"{"code":"JAV","name":"Javelin","category":"armour","lethal":true,"unit_price":"240000","lead_time_days":90}"#,
        r#"{"name":"Package one"}"#,
        "{}",
    ];
    for (index, body) in bodies.iter().enumerate() {
        for choice in 0u8..8 {
            let operation = choice * 7 + u8::try_from(index).expect("few");
            write(
                "json_body",
                &format!("body-{index}-{operation}"),
                &[&[operation], body.as_bytes()].concat(),
            )?;
        }
    }
    Ok(())
}

fn hex(hash: &Hash) -> String {
    hash.iter().map(|byte| format!("{byte:02x}")).collect()
}

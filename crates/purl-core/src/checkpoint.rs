//! Signed checkpoints in the C2SP tlog-checkpoint format: a note whose text is
//! `<origin>\n<tree size>\n<base64 root hash>\n`, followed by a blank line and one signature line
//! `— <key name> <base64(key hash ‖ Ed25519 signature)>`. Keys are written as the C2SP signed-note
//! verifier key `<name>+<hex key hash>+<base64(0x01 ‖ public key)>` and its private counterpart.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::merkle::Hash;

/// The algorithm byte of Ed25519 in signed-note keys.
const ED25519_ALGORITHM: u8 = 0x01;
/// A checkpoint note larger than this is not one of ours.
pub const NOTE_BYTES_MAX: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("the key is malformed: {0}")]
    Key(String),
    #[error("the checkpoint note is malformed: {0}")]
    Malformed(String),
    #[error("the checkpoint carries no signature by key '{0}'")]
    NoSignature(String),
    #[error("the checkpoint's signature by '{0}' is not valid")]
    BadSignature(String),
    #[error("the checkpoint is for origin '{found}', not '{expected}'")]
    WrongOrigin { expected: String, found: String },
}

fn key_hash(name: &str, public: &VerifyingKey) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([ED25519_ALGORITHM]);
    hasher.update(public.as_bytes());
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.contains(['+', ' ', '\n', '\t']) {
        return Err(NoteError::Key(format!("'{name}' is not a valid key name")));
    }
    Ok(())
}

/// The signer: a key name (the log's origin) and an Ed25519 private key.
pub struct SignerKey {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SignerKey({}, <redacted>)", self.name)
    }
}

impl SignerKey {
    /// A key from 32 random bytes the caller drew.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, NoteError> {
        check_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn verifier(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            key: self.key.verifying_key(),
        }
    }

    /// `PRIVATE+KEY+<name>+<hex key hash>+<base64(0x01 ‖ seed)>`.
    pub fn encode(&self) -> String {
        let mut data = vec![ED25519_ALGORITHM];
        data.extend_from_slice(self.key.as_bytes());
        let hash = key_hash(&self.name, &self.key.verifying_key());
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex::encode(hash),
            BASE64.encode(data)
        )
    }

    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let rest = text
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| NoteError::Key("not a private key".into()))?;
        let (name, data) = split_key(rest)?;
        let seed: [u8; 32] = data
            .try_into()
            .map_err(|_| NoteError::Key("the private key is not 32 bytes".into()))?;
        Self::from_seed(name, seed)
    }

    /// Signs the checkpoint: the note text and its signature line.
    pub fn sign(&self, checkpoint: &Checkpoint) -> String {
        let text = checkpoint.text();
        let signature = self.key.sign(text.as_bytes());
        let mut data = key_hash(&self.name, &self.key.verifying_key()).to_vec();
        data.extend_from_slice(&signature.to_bytes());
        format!("{text}\n\u{2014} {} {}\n", self.name, BASE64.encode(data))
    }
}

/// Splits `<name>+<hex hash>+<base64 key>` and checks the algorithm byte.
fn split_key(text: &str) -> Result<(&str, Vec<u8>), NoteError> {
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(hash), Some(data)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(NoteError::Key("expected <name>+<hash>+<key>".into()));
    };
    if hash.len() != 8 || hex::decode(hash).is_err() {
        return Err(NoteError::Key("the key hash is not 8 hex digits".into()));
    }
    let data = BASE64
        .decode(data)
        .map_err(|e| NoteError::Key(e.to_string()))?;
    match data.split_first() {
        Some((&ED25519_ALGORITHM, key)) => Ok((name, key.to_vec())),
        _ => Err(NoteError::Key("not an Ed25519 key".into())),
    }
}

/// What an auditor holds: the key name and the Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key: VerifyingKey,
}

impl VerifierKey {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `<name>+<hex key hash>+<base64(0x01 ‖ public key)>`.
    pub fn encode(&self) -> String {
        let mut data = vec![ED25519_ALGORITHM];
        data.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(key_hash(&self.name, &self.key)),
            BASE64.encode(data)
        )
    }

    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let text = text.trim();
        let (name, data) = split_key(text)?;
        check_name(name)?;
        let bytes: [u8; 32] = data
            .try_into()
            .map_err(|_| NoteError::Key("the public key is not 32 bytes".into()))?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|e| NoteError::Key(e.to_string()))?;
        let parsed = Self {
            name: name.to_owned(),
            key,
        };
        if parsed.encode() != text {
            return Err(NoteError::Key("the key hash does not match the key".into()));
        }
        Ok(parsed)
    }

    /// Checks the note's signature by this key, then parses its checkpoint. The origin must be the
    /// key's name.
    pub fn open(&self, note: &str) -> Result<Checkpoint, NoteError> {
        if note.len() > NOTE_BYTES_MAX {
            return Err(NoteError::Malformed("too large".into()));
        }
        let (text, signatures) = note
            .split_once("\n\n")
            .map(|(text, signatures)| (format!("{text}\n"), signatures))
            .ok_or_else(|| NoteError::Malformed("no blank line before the signatures".into()))?;
        let expected_hash = key_hash(&self.name, &self.key);
        let mut found = false;
        for line in signatures.lines() {
            let line = line.strip_prefix("\u{2014} ").ok_or_else(|| {
                NoteError::Malformed("a signature line must start with '— '".into())
            })?;
            let (name, data) = line.split_once(' ').ok_or_else(|| {
                NoteError::Malformed("a signature line needs a name and a signature".into())
            })?;
            let data = BASE64
                .decode(data)
                .map_err(|e| NoteError::Malformed(e.to_string()))?;
            if name != self.name || data.len() != 68 || data[..4] != expected_hash {
                continue;
            }
            found = true;
            let signature = ed25519_dalek::Signature::from_slice(&data[4..])
                .map_err(|e| NoteError::Malformed(e.to_string()))?;
            self.key
                .verify_strict(text.as_bytes(), &signature)
                .map_err(|_| NoteError::BadSignature(self.name.clone()))?;
        }
        if !found {
            return Err(NoteError::NoSignature(self.name.clone()));
        }
        let checkpoint = Checkpoint::parse_text(&text)?;
        if checkpoint.origin != self.name {
            return Err(NoteError::WrongOrigin {
                expected: self.name.clone(),
                found: checkpoint.origin,
            });
        }
        Ok(checkpoint)
    }
}

impl Checkpoint {
    /// The note text that is signed.
    pub fn text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        )
    }

    pub fn parse_text(text: &str) -> Result<Self, NoteError> {
        let malformed = |what: &str| NoteError::Malformed(what.to_owned());
        let mut lines = text.lines();
        let origin = lines
            .next()
            .filter(|l| !l.is_empty())
            .ok_or_else(|| malformed("no origin line"))?;
        let size = lines.next().ok_or_else(|| malformed("no tree size line"))?;
        if size.is_empty()
            || !size.bytes().all(|b| b.is_ascii_digit())
            || (size.len() > 1 && size.starts_with('0'))
        {
            return Err(malformed("the tree size is not a decimal number"));
        }
        let size = size
            .parse()
            .map_err(|_| malformed("the tree size is too large"))?;
        let root = lines.next().ok_or_else(|| malformed("no root hash line"))?;
        let root: Hash = BASE64
            .decode(root)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| malformed("the root hash is not 32 bytes of base64"))?;
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> SignerKey {
        SignerKey::from_seed("purl.example/ledger", [7; 32]).unwrap()
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            origin: "purl.example/ledger".into(),
            size: 152,
            root: crate::merkle::hash_leaf(b"x"),
        }
    }

    #[test]
    fn a_signed_checkpoint_opens_with_the_verifier_key_and_round_trips_keys() {
        let signer = signer();
        let note = signer.sign(&checkpoint());
        assert!(note.starts_with("purl.example/ledger\n152\n"));
        assert!(note.contains("\n\n\u{2014} purl.example/ledger "));
        let verifier = VerifierKey::parse(&signer.verifier().encode()).unwrap();
        assert_eq!(verifier.open(&note).unwrap(), checkpoint());
        assert_eq!(
            SignerKey::parse(&signer.encode()).unwrap().encode(),
            signer.encode()
        );
    }

    #[test]
    fn any_changed_byte_of_a_note_is_refused() {
        let note = signer().sign(&checkpoint());
        let verifier = signer().verifier();
        for index in 0..note.len() {
            let mut bytes = note.clone().into_bytes();
            bytes[index] ^= 0x01;
            let Ok(changed) = String::from_utf8(bytes) else {
                continue;
            };
            assert!(
                verifier.open(&changed).is_err(),
                "byte {index} changed and still accepted"
            );
        }
    }

    #[test]
    fn another_key_or_origin_is_refused() {
        let note = signer().sign(&checkpoint());
        let other = SignerKey::from_seed("purl.example/ledger", [8; 32])
            .unwrap()
            .verifier();
        assert!(matches!(other.open(&note), Err(NoteError::NoSignature(_))));
        let elsewhere = SignerKey::from_seed("other.example/log", [7; 32]).unwrap();
        let foreign = elsewhere.sign(&checkpoint());
        assert!(matches!(
            elsewhere.verifier().open(&foreign),
            Err(NoteError::WrongOrigin { .. })
        ));
    }
}

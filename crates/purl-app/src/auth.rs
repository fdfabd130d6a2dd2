//! Sign-in: passwords (argon2id), browser sessions and personal API tokens. They are kept in the
//! store's secrets, beside the ledger and never in it; only hashes of secrets are stored.

use base64::Engine;
use purl_core::access::{self, Visibility};
use purl_core::ids::Username;
use purl_core::state::State;
use purl_core::user::Actor;
use purl_store::Store;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{App, AppError};

mod hashing;
pub(crate) mod throttle;

use hashing::{decoy_hash, hash_password, password_matches};
pub use hashing::{Hashing, HashingFigures, HASHES_AT_ONCE_MAX};

const CREDENTIAL: &str = "credential";
const SESSION: &str = "session";
const TOKEN: &str = "token";
/// One record rewritten on a failed sign-in with an unknown name, as a known one's failure count
/// is, so the two take as long.
const DECOY: &str = "decoy";

pub const PASSWORD_CHARS_MIN: usize = 12;
pub const PASSWORD_CHARS_MAX: usize = 256;
pub const TOKEN_DAYS_MAX: u32 = 366;
const MINUTE_US: i64 = 60_000_000;

/// How long sessions live and when repeated failures lock an account.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// A session unused this long ends.
    pub session_idle_us: i64,
    /// A session ends this long after sign-in, used or not.
    pub session_max_us: i64,
    /// Consecutive wrong passwords that lock an account.
    pub lockout_after: u32,
    pub lockout_us: i64,
    /// Password checks allowed for one account name in any window of `check_window_us`; more
    /// are refused without hashing anything (`AuthError::Throttled`).
    pub checks_per_window: u32,
    pub check_window_us: i64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            session_idle_us: 30 * MINUTE_US,
            session_max_us: 12 * 60 * MINUTE_US,
            lockout_after: 10,
            lockout_us: 15 * MINUTE_US,
            checks_per_window: 10,
            check_window_us: 15 * MINUTE_US,
        }
    }
}

/// Why a sign-in or password change failed. Deliberately the same for an unknown account, a wrong
/// password and a locked account.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(
        "sign-in failed: wrong username or password, or too many failed attempts (try again later)"
    )]
    Failed,
    /// Too many password checks for this account name lately; the same for every name.
    #[error("too many sign-in attempts for this user name; try again in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<purl_store::StoreError> for AuthError {
    fn from(error: purl_store::StoreError) -> Self {
        AuthError::App(error.into())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Credential {
    hash: String,
    must_change: bool,
    failures: u32,
    locked_until_us: Option<i64>,
}

/// A browser session, found by the SHA-256 of its cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub username: String,
    /// Every state-changing request of this session must carry it.
    pub csrf: String,
    /// The password is a one-time password: only changing it is allowed.
    pub must_change_password: bool,
    pub created_us: i64,
    pub last_seen_us: i64,
}

/// A personal API token as listed (its secret is shown once, at creation, and stored hashed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub id: String,
    pub username: String,
    pub name: String,
    pub created_us: i64,
    pub expires_us: i64,
    pub revoked_us: Option<i64>,
    pub last_used_us: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredToken {
    #[serde(flatten)]
    info: TokenInfo,
    secret_sha256: String,
    /// The idempotency key of the request that created it, so a retry creates no second token.
    #[serde(default)]
    idempotency_key: Option<String>,
}

/// A successful sign-in: the cookie value to hand to the browser, once.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub cookie: String,
    pub session: Session,
}

pub(crate) fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Checks a new password against the rules (length only, as NIST SP 800-63B advises).
pub fn check_new_password(password: &str) -> Result<(), AuthError> {
    let chars = password.chars().count();
    if !(PASSWORD_CHARS_MIN..=PASSWORD_CHARS_MAX).contains(&chars) {
        return Err(AuthError::Invalid(format!(
            "password: must be {PASSWORD_CHARS_MIN} to {PASSWORD_CHARS_MAX} characters long"
        )));
    }
    Ok(())
}

/// The actor a signed-in user acts as: an active user of a known participant.
pub fn actor_of(state: &State, username: &str) -> Option<Actor> {
    let name = Username::parse(username).ok()?;
    let user = state.users.get(&name).filter(|user| user.active)?;
    let participant = state.participants.get(&user.participant)?;
    Some(Actor::User {
        username: name,
        participant: user.participant.clone(),
        party: participant.party,
        roles: user.roles.clone(),
    })
}

impl<S: Store> App<S> {
    /// Gives `username` a new one-time password, to be changed at first sign-in. Returns it: it is
    /// shown once and stored only hashed.
    pub async fn issue_one_time_password(&self, username: &str) -> Result<String, AppError> {
        let state = self.state().await?;
        if actor_of(&state, username).is_none() {
            return Err(AppError::NotFound(format!(
                "user '{username}' does not exist or is deactivated"
            )));
        }
        let password = random_secret();
        let for_hash = password.clone();
        let hash = self.hashing.run(move || hash_password(&for_hash)).await?;
        self.put_credential(
            username,
            &Credential {
                hash,
                must_change: true,
                failures: 0,
                locked_until_us: None,
            },
        )
        .await?;
        tracing::info!(username, "one-time password issued");
        Ok(password)
    }

    async fn credential(&self, username: &str) -> Result<Option<Credential>, AppError> {
        let Some(body) = self.store().secret(CREDENTIAL, username).await? else {
            return Ok(None);
        };
        serde_json::from_str(&body).map(Some).map_err(|error| {
            AppError::from(purl_store::StoreError::Corrupt {
                detail: format!("credential of {username}: {error}"),
            })
        })
    }

    async fn put_credential(
        &self,
        username: &str,
        credential: &Credential,
    ) -> Result<(), AppError> {
        let body = serde_json::to_string(credential).expect("credentials serialise");
        Ok(self.store().put_secret(CREDENTIAL, username, &body).await?)
    }

    /// Checks a password, counting failures and locking the account after too many in a row.
    async fn check_password(
        &self,
        settings: &AuthSettings,
        username: &str,
        password: &str,
    ) -> Result<Credential, AuthError> {
        self.throttle
            .admit(
                username,
                self.clock.now_us(),
                settings.checks_per_window,
                settings.check_window_us,
            )
            .map_err(|retry_after_secs| AuthError::Throttled { retry_after_secs })?;
        let state = self.state().await?;
        let known = actor_of(&state, username).is_some();
        // Read for every name, so an unknown one costs the same store work as a known one.
        let credential = self.credential(username).await?.filter(|_| known);
        let hash = credential.as_ref().map(|c| c.hash.clone());
        let attempt = password.to_owned();
        let matches = self
            .hashing
            .run(move || match hash {
                Some(hash) => password_matches(&attempt, &hash),
                None => password_matches(&attempt, decoy_hash()),
            })
            .await;
        // The failure count is read again and written under one lock, so concurrent attempts
        // each count (a lost update would let a guesser past the lockout).
        let _counting = self.credential_updates.lock().await;
        let now = self.clock.now_us();
        let fresh = self.credential(username).await?.filter(|_| known);
        let (Some(checked), Some(mut credential)) = (credential, fresh) else {
            // As long as a known account's failed attempt, which stores its failure count.
            self.store()
                .put_secret(DECOY, "failed sign-in", &now.to_string())
                .await?;
            return Err(AuthError::Failed);
        };
        if credential.locked_until_us.is_some_and(|until| until > now) {
            tracing::warn!(username, "sign-in refused: account locked");
            self.store()
                .put_secret(DECOY, "failed sign-in", &now.to_string())
                .await?;
            return Err(AuthError::Failed);
        }
        if credential.locked_until_us.is_some() {
            credential.locked_until_us = None;
            credential.failures = 0;
        }
        // A password changed while this one was checked: the check was against the old one.
        let matches = matches && checked.hash == credential.hash;
        if matches {
            self.throttle.give_back(username);
            if credential.failures > 0 {
                credential.failures = 0;
                self.put_credential(username, &credential).await?;
            }
            return Ok(credential);
        }
        credential.failures += 1;
        if credential.failures >= settings.lockout_after {
            credential.locked_until_us = Some(now + settings.lockout_us);
            tracing::warn!(username, failures = credential.failures, "account locked");
        }
        self.put_credential(username, &credential).await?;
        Err(AuthError::Failed)
    }

    /// Signs in with a password and opens a session.
    pub async fn sign_in(
        &self,
        settings: &AuthSettings,
        username: &str,
        password: &str,
    ) -> Result<SignedIn, AuthError> {
        let credential = self.check_password(settings, username, password).await?;
        let cookie = random_secret();
        let now = self.clock.now_us();
        let session = Session {
            username: username.to_owned(),
            csrf: random_secret(),
            must_change_password: credential.must_change,
            created_us: now,
            last_seen_us: now,
        };
        self.put_session(&sha256_hex(&cookie), &session).await?;
        tracing::info!(username, "signed in");
        Ok(SignedIn { cookie, session })
    }

    async fn put_session(&self, id: &str, session: &Session) -> Result<(), AppError> {
        let body = serde_json::to_string(session).expect("sessions serialise");
        Ok(self.store().put_secret(SESSION, id, &body).await?)
    }

    /// The session of a cookie and the actor it acts as, if the session is live and its user
    /// still active. An expired session is deleted.
    pub async fn session(
        &self,
        settings: &AuthSettings,
        cookie: &str,
    ) -> Result<Option<(Session, Actor)>, AppError> {
        let id = sha256_hex(cookie);
        let (body, head) = self.store().secret_and_head(SESSION, &id).await?;
        let Some(body) = body else {
            return Ok(None);
        };
        let Ok(mut session) = serde_json::from_str::<Session>(&body) else {
            self.store().delete_secret(SESSION, &id).await?;
            return Ok(None);
        };
        let now = self.clock.now_us();
        if now - session.last_seen_us > settings.session_idle_us
            || now - session.created_us > settings.session_max_us
        {
            self.store().delete_secret(SESSION, &id).await?;
            return Ok(None);
        }
        let state = self.state_at(head).await?;
        let Some(actor) = actor_of(&state, &session.username) else {
            return Ok(None);
        };
        if now - session.last_seen_us > MINUTE_US {
            session.last_seen_us = now;
            self.put_session(&id, &session).await?;
        }
        Ok(Some((session, actor)))
    }

    /// Ends a session (nothing happens for an unknown cookie).
    pub async fn sign_out(&self, cookie: &str) -> Result<(), AppError> {
        Ok(self
            .store()
            .delete_secret(SESSION, &sha256_hex(cookie))
            .await?)
    }

    /// Changes a user's password after checking the current one; the session `cookie` (if any) is
    /// then no longer restricted to changing the password, and every other session of the user ends.
    pub async fn change_password(
        &self,
        settings: &AuthSettings,
        username: &str,
        current: &str,
        new: &str,
        cookie: Option<&str>,
    ) -> Result<(), AuthError> {
        check_new_password(new)?;
        if new == current {
            return Err(AuthError::Invalid(
                "password: the new password must differ from the current one".into(),
            ));
        }
        let mut credential = self.check_password(settings, username, current).await?;
        let new_password = new.to_owned();
        credential.hash = self
            .hashing
            .run(move || hash_password(&new_password))
            .await?;
        credential.must_change = false;
        self.put_credential(username, &credential).await?;
        let keep = cookie.map(sha256_hex);
        for (id, body) in self.store().secrets(SESSION).await? {
            let Ok(mut session) = serde_json::from_str::<Session>(&body) else {
                continue;
            };
            if session.username != username {
                continue;
            }
            if Some(&id) == keep.as_ref() {
                session.must_change_password = false;
                self.put_session(&id, &session).await?;
            } else {
                self.store().delete_secret(SESSION, &id).await?;
            }
        }
        tracing::info!(username, "password changed");
        Ok(())
    }

    /// Creates a personal API token for the signed-in `actor`. Returns it with its secret, which
    /// is shown only now. A retry with the same `idempotency_key` returns the token the first
    /// request created, without its secret.
    pub async fn create_token(
        &self,
        actor: &Actor,
        name: &str,
        days: u32,
        idempotency_key: Option<&str>,
    ) -> Result<(TokenInfo, Option<String>), AppError> {
        let Actor::User { username, .. } = actor else {
            return Err(AppError::Invalid(
                "tokens belong to users; the operator has none".into(),
            ));
        };
        let name = name.trim();
        let max = purl_core::limits::TOKEN_NAME_CHARS_MAX;
        if name.is_empty() || name.chars().count() > max {
            return Err(AppError::Invalid(format!(
                "name: must be 1 to {max} characters"
            )));
        }
        if days == 0 || days > TOKEN_DAYS_MAX {
            return Err(AppError::Invalid(format!(
                "expires_in_days: must be 1 to {TOKEN_DAYS_MAX}"
            )));
        }
        if let Some(key) = idempotency_key {
            let first = self.stored_tokens().await?.into_iter().find(|token| {
                token.info.username == username.as_str()
                    && token.idempotency_key.as_deref() == Some(key)
            });
            if let Some(first) = first {
                return Ok((first.info, None));
            }
        }
        let mut id_bytes = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut id_bytes);
        let id = hex::encode(id_bytes);
        let secret = random_secret();
        let now = self.clock.now_us();
        let info = TokenInfo {
            id: id.clone(),
            username: username.to_string(),
            name: name.to_owned(),
            created_us: now,
            expires_us: now + i64::from(days) * 24 * 60 * MINUTE_US,
            revoked_us: None,
            last_used_us: None,
        };
        self.put_token(&StoredToken {
            info: info.clone(),
            secret_sha256: sha256_hex(&secret),
            idempotency_key: idempotency_key.map(str::to_owned),
        })
        .await?;
        tracing::info!(username = %username, token = id, "API token created");
        Ok((info, Some(format!("purl_{id}_{secret}"))))
    }

    async fn put_token(&self, token: &StoredToken) -> Result<(), AppError> {
        let body = serde_json::to_string(token).expect("tokens serialise");
        Ok(self
            .store()
            .put_secret(TOKEN, &token.info.id, &body)
            .await?)
    }

    async fn stored_tokens(&self) -> Result<Vec<StoredToken>, AppError> {
        Ok(self
            .store()
            .secrets(TOKEN)
            .await?
            .into_iter()
            .filter_map(|(_, body)| serde_json::from_str(&body).ok())
            .collect())
    }

    /// The actor a presented token acts as, if it is live (known, unrevoked, unexpired) and its
    /// user still active. Records its use.
    pub async fn token_actor(&self, presented: &str) -> Result<Option<Actor>, AppError> {
        let Some((id, secret)) = presented
            .strip_prefix("purl_")
            .and_then(|rest| rest.split_once('_'))
        else {
            return Ok(None);
        };
        let (body, head) = self.store().secret_and_head(TOKEN, id).await?;
        let Some(body) = body else {
            return Ok(None);
        };
        let Ok(mut token) = serde_json::from_str::<StoredToken>(&body) else {
            return Ok(None);
        };
        let now = self.clock.now_us();
        if token.secret_sha256 != sha256_hex(secret)
            || token.info.revoked_us.is_some()
            || token.info.expires_us <= now
        {
            return Ok(None);
        }
        let state = self.state_at(head).await?;
        let Some(actor) = actor_of(&state, &token.info.username) else {
            return Ok(None);
        };
        if token
            .info
            .last_used_us
            .is_none_or(|last| now - last > MINUTE_US)
        {
            token.info.last_used_us = Some(now);
            self.put_token(&token).await?;
        }
        Ok(Some(actor))
    }

    /// The tokens `actor` may see: its own, and as an admin those of the users it administers.
    pub async fn tokens(&self, actor: &Actor) -> Result<Vec<TokenInfo>, AppError> {
        let state = self.state().await?;
        Ok(self
            .stored_tokens()
            .await?
            .into_iter()
            .map(|token| token.info)
            .filter(|info| token_visible(&state, actor, info))
            .collect())
    }

    /// Revokes a token `actor` may see; one it may not see is reported as absent.
    pub async fn revoke_token(&self, actor: &Actor, id: &str) -> Result<TokenInfo, AppError> {
        let state = self.state().await?;
        let not_found = || AppError::NotFound(format!("token '{id}' does not exist"));
        let body = self
            .store()
            .secret(TOKEN, id)
            .await?
            .ok_or_else(not_found)?;
        let mut token: StoredToken = serde_json::from_str(&body).map_err(|_| not_found())?;
        if !token_visible(&state, actor, &token.info) {
            return Err(not_found());
        }
        if token.info.revoked_us.is_none() {
            token.info.revoked_us = Some(self.clock.now_us());
            self.put_token(&token).await?;
            tracing::info!(token = id, by = %actor.ledger_name(), "API token revoked");
        }
        Ok(token.info)
    }
}

fn token_visible(state: &State, actor: &Actor, info: &TokenInfo) -> bool {
    Username::parse(&info.username)
        .ok()
        .and_then(|name| state.users.get(&name))
        .is_some_and(|user| access::user(Some(actor), user) == Visibility::Full)
}

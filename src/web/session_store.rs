//! actix-session storage in our own `sessions` table, so sessions are shared by every
//! application node, end at logout, and can all be ended for a user at once.

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;

use crate::crypto::random_token;
use crate::db::{self, DbPool};
use crate::store::{now, sessions};

/// The session-state key holding the logged-in user's id.
pub const USER_ID_KEY: &str = "user_id";

#[derive(Clone)]
pub struct DbSessionStore {
    pool: DbPool,
}

impl DbSessionStore {
    pub fn new(pool: DbPool) -> Self {
        DbSessionStore { pool }
    }
}

type State = HashMap<String, String>;

fn user_id_of(state: &State) -> Option<i64> {
    state.get(USER_ID_KEY).and_then(|v| v.trim_matches('"').parse().ok())
}

fn expiry(ttl: &Duration) -> chrono::NaiveDateTime {
    now() + chrono::Duration::seconds(ttl.whole_seconds())
}

impl SessionStore for DbSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<State>, LoadError> {
        let key = key.as_ref().to_owned();
        let stored = db::run(&self.pool, move |c| Ok(sessions::load(c, &key)?))
            .await
            .map_err(|e| LoadError::Other(anyhow::anyhow!(e)))?;
        stored.map(|s| serde_json::from_str(&s).map_err(|e| LoadError::Deserialization(e.into()))).transpose()
    }

    async fn save(&self, state: State, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let body = serde_json::to_string(&state).map_err(|e| SaveError::Serialization(e.into()))?;
        let key = random_token(32);
        let expires = expiry(ttl);
        let user_id = user_id_of(&state);
        let k = key.clone();
        db::run(&self.pool, move |c| Ok(sessions::insert(c, &k, user_id, &body, expires)?))
            .await
            .map_err(|e| SaveError::Other(anyhow::anyhow!(e)))?;
        SessionKey::try_from(key).map_err(|e| SaveError::Other(e.into()))
    }

    async fn update(&self, key: SessionKey, state: State, ttl: &Duration) -> Result<SessionKey, UpdateError> {
        let body = serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let expires = expiry(ttl);
        let user_id = user_id_of(&state);
        let k = key.as_ref().to_owned();
        let updated = db::run(&self.pool, move |c| Ok(sessions::update(c, &k, user_id, &body, expires)?))
            .await
            .map_err(|e| UpdateError::Other(anyhow::anyhow!(e)))?;
        if updated == 0 {
            // The row expired or was purged meanwhile: start a fresh session.
            return self.save(state, ttl).await.map_err(|e| UpdateError::Other(anyhow::anyhow!(e)));
        }
        Ok(key)
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
        let k = key.as_ref().to_owned();
        let expires = expiry(ttl);
        db::run(&self.pool, move |c| Ok(sessions::touch(c, &k, expires)?)).await.map_err(|e| anyhow::anyhow!(e))?;
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        let k = key.as_ref().to_owned();
        db::run(&self.pool, move |c| Ok(sessions::delete(c, &k)?)).await.map_err(|e| anyhow::anyhow!(e))?;
        Ok(())
    }
}

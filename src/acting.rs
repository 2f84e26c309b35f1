//! Who is acting on the platform (an account, from which address), with what its
//! actions need: the links in the e-mails they queue, the currency, the default
//! fee, and the audit line of an admin's action. Built by the web and API layers
//! (`Ctx::acting`) and by the postback for a verdict; moved into blocking work.

use crate::db::DbConn;
use crate::domain::account::Role;
use crate::error::AppResult;
use crate::store::audit;
use crate::store::users::User;

/// Who is acting, with what the audit log needs; movable into blocking work.
#[derive(Debug, Clone)]
pub struct Acting {
    pub user: User,
    pub ip: Option<String>,
    /// The public base URL, for links in e-mails (`https://host`).
    pub base_url: String,
    /// The platform currency, for money in plain words.
    pub currency: String,
    /// `QUALEAD_PLATFORM_FEE_BPS`, the fee when neither the offer nor an admin
    /// setting names one.
    pub platform_fee_bps: u32,
}

impl Acting {
    /// `user` acting from `ip` (none for the platform's own work), with what the
    /// configuration tells every action.
    pub fn new(user: User, ip: Option<String>, config: &crate::config::Config) -> Acting {
        Acting {
            user,
            ip,
            base_url: config.base_url.to_string(),
            currency: config.currency.clone(),
            platform_fee_bps: config.platform_fee_bps,
        }
    }

    pub(crate) fn role(&self) -> Role {
        self.user.role()
    }

    /// Money in the platform currency for e-mails and messages (in English): `$12,500.00`.
    pub fn money(&self, minor: i64) -> String {
        crate::domain::money::format_money(minor, &self.currency, crate::domain::money::Locale::En)
    }

    pub(crate) fn link(&self, path: &str) -> String {
        format!("{}{}", self.base_url.trim_end_matches('/'), path)
    }

    /// Admin actions go to the audit log; others do not need to.
    pub fn audit(&self, conn: &mut DbConn, action: &str, subject: (&str, Option<i64>), detail: &str) -> AppResult<()> {
        if self.role() == Role::Admin {
            audit::record(
                conn,
                audit::Event {
                    actor_id: Some(self.user.id),
                    action,
                    subject_type: subject.0,
                    subject_id: subject.1,
                    detail,
                    ip: self.ip.as_deref(),
                },
            )?;
        }
        Ok(())
    }
}

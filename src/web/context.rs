//! What every page handler needs: the session, the logged-in user (if any), the
//! client's address, and the [`Page`] model the base layout renders. Role guards
//! ([`SignedIn`], [`AdvertiserCtx`], [`PublisherCtx`], [`AdminCtx`]) are extractors:
//! a handler that takes one cannot run for anybody else.

use std::net::IpAddr;

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};

use crate::client_ip::client_ip;
use crate::db;
use crate::domain::account::{AccountStatus, Role};
use crate::domain::local::{Local, Minor, UtcTime};
use crate::domain::money::Locale;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::users::{self, User};
use crate::web::csrf;
use crate::web::session_store::USER_ID_KEY;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    pub kind: String,
    pub message: String,
}

impl Flash {
    /// The message without the error code a refusal ends with (`… [invalid_transition]`).
    pub fn text(&self) -> &str {
        self.split().0
    }

    /// The error code a refusal's message ends with, shown as a tag for integrators.
    pub fn code(&self) -> Option<&str> {
        self.split().1
    }

    fn split(&self) -> (&str, Option<&str>) {
        let m = self.message.as_str();
        if let Some(open) = m.strip_suffix(']').and_then(|rest| rest.rfind(" [")) {
            let code = &m[open + 2..m.len() - 1];
            if !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
                return (&m[..open], Some(code));
            }
        }
        (m, None)
    }
}

/// The part of the logged-in user the layout shows.
#[derive(Debug, Clone)]
pub struct NavUser {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
}

impl NavUser {
    pub fn of(u: &User) -> NavUser {
        NavUser { id: u.id, email: u.email.clone(), display_name: u.display_name.clone(), role: u.role() }
    }
    pub fn role_str(&self) -> &'static str {
        self.role.as_str()
    }
    pub fn is(&self, role: &str) -> bool {
        self.role.as_str() == role
    }
}

/// The model of `base.html`: every page template has a `page: Page` field.
#[derive(Debug, Clone)]
pub struct Page {
    pub title: String,
    pub user: Option<NavUser>,
    pub csrf: String,
    pub flash: Option<Flash>,
    pub path: String,
    /// How the viewer reads money and time: see [`Local`].
    pub local: Local,
}

impl Page {
    /// The logged-in user's id, or 0 for visitors.
    pub fn user_id(&self) -> i64 {
        self.user.as_ref().map(|u| u.id).unwrap_or_default()
    }

    /// Whether the current page is `path` (whatever its query).
    pub fn at(&self, path: &str) -> bool {
        self.path.split('?').next() == Some(path)
    }

    /// Money in the network's currency for this viewer: `$12,500.00`.
    pub fn money(&self, minor: impl Minor) -> String {
        self.local.money(minor)
    }

    /// An amount kept as machine text (`"12.50"`) for this viewer: `$12.50`.
    pub fn amount(&self, decimal: impl AsRef<str>) -> String {
        self.local.amount(decimal)
    }

    /// A count with the viewer's thousands separators: `15,128`.
    pub fn count(&self, n: impl Minor) -> String {
        self.local.count(n)
    }

    /// A whole number kept as text with the viewer's thousands separators; other
    /// text as it is.
    pub fn number(&self, text: impl AsRef<str>) -> String {
        self.local.number(text)
    }

    /// A stored (UTC) time in the viewer's zone: `2026-12-07 09:40`. The page names
    /// the zone once, in its footer ([`Page::zone`]).
    pub fn time(&self, utc: impl UtcTime) -> String {
        self.local.time(utc)
    }

    /// The same with seconds.
    pub fn time_s(&self, utc: impl UtcTime) -> String {
        self.local.time_s(utc)
    }

    /// The viewer's day of a stored time.
    pub fn date(&self, utc: impl UtcTime) -> String {
        self.local.date(utc)
    }

    /// The viewer's clock time (seconds) of a stored time.
    pub fn clock(&self, utc: impl UtcTime) -> String {
        self.local.clock(utc)
    }

    /// The viewer's zone and its offset now: `Europe/Berlin (UTC+01:00)`.
    pub fn zone(&self) -> String {
        self.local.zone()
    }

    /// Whether a navigation link points at the current section.
    pub fn active(&self, prefix: &str) -> bool {
        if prefix == "/" { self.path == "/" } else { self.path.starts_with(prefix) }
    }
}

pub struct Ctx {
    pub session: Session,
    pub user: Option<User>,
    pub state: web::Data<AppState>,
    pub ip: IpAddr,
    pub path: String,
}

impl Ctx {
    /// The viewer's locale. English for everybody today; the place where a user's
    /// language (or the browser's `Accept-Language`) will choose another.
    pub fn locale(&self) -> Locale {
        Locale::default()
    }

    /// How this viewer reads money and time: the locale, the network currency, and
    /// the user's time zone (UTC for visitors).
    pub fn local(&self) -> Local {
        let tz = self.user.as_ref().map_or("UTC", |u| u.timezone.as_str());
        Local::new(self.locale(), &self.state.config.currency, tz)
    }

    pub fn page(&self, title: impl Into<String>) -> Page {
        let flash = self.session.remove_as::<Flash>("flash").and_then(Result::ok);
        Page {
            title: title.into(),
            user: self.user.as_ref().map(NavUser::of),
            csrf: csrf::token(&self.session),
            flash,
            path: self.path.clone(),
            local: self.local(),
        }
    }

    /// A message shown once on the next page.
    pub fn flash(&self, kind: &str, message: impl Into<String>) {
        let _ = self.session.insert("flash", Flash { kind: kind.into(), message: message.into() });
    }

    pub fn pool(&self) -> &db::DbPool {
        &self.state.pool
    }

    /// What the marketplace operations need to know about the person acting.
    pub fn acting(&self, user: &User) -> crate::acting::Acting {
        crate::acting::Acting::new(user.clone(), Some(self.ip.to_string()), &self.state.config)
    }
}

impl FromRequest for Ctx {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let path = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
        let ip = state.as_ref().map(|s| client_ip(req, &s.config.trusted_proxies));
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::Internal(anyhow::anyhow!("application state missing")))?;
            let ip = ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
            let user_id = session.get::<i64>(USER_ID_KEY).ok().flatten();
            let user = match user_id {
                Some(id) => db::run(&state.pool, move |c| Ok(users::find(c, id)?)).await?,
                None => None,
            };
            // A suspended (or deleted) account loses its session at the next request.
            let user = user.filter(|u| u.status() == AccountStatus::Active);
            if user_id.is_some() && user.is_none() {
                session.purge();
            }
            Ok(Ctx { session, user, state, ip, path })
        })
    }
}

macro_rules! role_guard {
    ($(#[$doc:meta])* $name:ident, [$($role:path),+]) => {
        $(#[$doc])*
        pub struct $name {
            pub ctx: Ctx,
            pub user: User,
        }

        impl FromRequest for $name {
            type Error = AppError;
            type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

            fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
                let ctx = Ctx::from_request(req, payload);
                Box::pin(async move {
                    let mut ctx = ctx.await?;
                    let Some(user) = ctx.user.take() else {
                        return Err(AppError::LoginRequired { next: ctx.path.clone() });
                    };
                    if !matches!(user.role(), $($role)|+) {
                        return Err(AppError::Forbidden);
                    }
                    ctx.user = Some(user.clone());
                    Ok($name { ctx, user })
                })
            }
        }
    };
}

role_guard!(
    /// Any logged-in, active account.
    SignedIn, [Role::Advertiser, Role::Publisher, Role::Admin]);
role_guard!(
    /// A logged-in advertiser.
    AdvertiserCtx, [Role::Advertiser]);
role_guard!(
    /// A logged-in publisher.
    PublisherCtx, [Role::Publisher]);
role_guard!(
    /// A logged-in admin.
    AdminCtx, [Role::Admin]);

/// Render a template as an HTML page.
pub fn render(t: &impl Template) -> AppResult<HttpResponse> {
    render_status(StatusCode::OK, t)
}

pub fn render_status(status: StatusCode, t: &impl Template) -> AppResult<HttpResponse> {
    Ok(HttpResponse::build(status).content_type("text/html; charset=utf-8").body(t.render()?))
}

/// `303 See Other` to `location`: the answer to every successful form post.
pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}

/// Field-level error messages of a form, shown next to each input.
#[derive(Debug, Default, Clone)]
pub struct FormErrors(Vec<(String, String)>);

impl FormErrors {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push((field.into(), message.into()));
    }
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Refuse control characters in a one-line field (unless it already has an error).
    pub fn one_line(&mut self, field: &str, value: &str) {
        if self.get(field).is_none()
            && let Some(p) = crate::domain::text::one_line_problem(value)
        {
            self.add(field, p);
        }
    }
}

impl From<crate::domain::offer::FieldErrors> for FormErrors {
    fn from(fields: crate::domain::offer::FieldErrors) -> Self {
        FormErrors(fields.into_iter().collect())
    }
}

/// A status button's form (an offer's or an account's new status, by name).
#[derive(Debug, Deserialize)]
pub struct StatusForm {
    pub status: String,
}

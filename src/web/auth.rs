//! Sign-up, e-mail verification, log in / out and password reset.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::crypto;
use crate::db;
use crate::domain::account::{AccountStatus, Role, is_valid_email, normalize_email, password_problem};
use crate::effects::Effects;
use crate::error::{AppError, AppResult};
use crate::mail::{
    self,
    templates::{ResetPassword, VerifyEmail},
};
use crate::store::tokens::{self, Purpose};
use crate::store::users::{self, CreateUserError, User, UserSpec};
use crate::store::{sessions, settings};
use crate::web::context::{Ctx, FormErrors, Page, redirect, render, render_status};
use crate::web::csrf::{self, CsrfForm, NoFields};
use crate::web::session_store::USER_ID_KEY;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/signup", web::get().to(signup_form))
        .route("/signup", web::post().to(signup_submit))
        .route("/verify-email", web::get().to(verify_email))
        .route("/verify-email/resend", web::post().to(resend_verification))
        .route("/login", web::get().to(login_form))
        .route("/login", web::post().to(login_submit))
        .route("/logout", web::post().to(logout))
        .route("/password/forgot", web::get().to(forgot_form))
        .route("/password/forgot", web::post().to(forgot_submit))
        .route("/password/reset", web::get().to(reset_form))
        .route("/password/reset", web::post().to(reset_submit));
}

/// Hash on the blocking pool: argon2 takes tens of milliseconds of CPU.
pub async fn hash_password(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || crypto::hash_password(&password))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(AppError::Internal)
}

pub async fn verify_password(password: String, stored: Option<String>) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || crypto::verify_password(&password, stored.as_deref()))
        .await
        .map_err(|e| AppError::Internal(e.into()))
}

// ---------------------------------------------------------------- sign-up

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct SignupForm {
    pub email: String,
    pub password: String,
    pub role: String,
    pub display_name: String,
    pub company: String,
}

#[derive(Template)]
#[template(path = "auth/signup.html")]
struct SignupPage {
    page: Page,
    form: SignupForm,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "auth/message.html")]
struct MessagePage {
    page: Page,
    heading: String,
    body: String,
    link: Option<(String, String)>,
}

#[derive(Deserialize)]
struct RoleQuery {
    role: Option<String>,
}

async fn signup_form(ctx: Ctx, q: web::Query<RoleQuery>) -> AppResult<HttpResponse> {
    if let Some(u) = &ctx.user {
        return Ok(redirect(u.role().home()));
    }
    let role = q.role.clone().filter(|r| r == "advertiser" || r == "publisher").unwrap_or_else(|| "publisher".into());
    render(&SignupPage {
        page: ctx.page("Create your account"),
        form: SignupForm { role, ..Default::default() },
        errors: FormErrors::default(),
    })
}

fn validate_signup(form: &SignupForm) -> (FormErrors, Option<Role>) {
    let mut errors = FormErrors::default();
    let email = normalize_email(&form.email);
    if !is_valid_email(&email) {
        errors.add("email", "Enter an e-mail address like name@example.com.");
    }
    if let Some(p) = password_problem(&form.password, &email) {
        errors.add("password", p);
    }
    let role = form.role.parse::<Role>().ok().filter(|r| r.can_self_register());
    if role.is_none() {
        errors.add("role", "Choose advertiser or publisher.");
    }
    let name = form.display_name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        errors.add("display_name", "Enter your name or your brand (up to 100 characters).");
    }
    if form.company.chars().count() > 200 {
        errors.add("company", "Use at most 200 characters.");
    }
    errors.one_line("display_name", name);
    errors.one_line("company", form.company.trim());
    (errors, role)
}

async fn signup_submit(ctx: Ctx, CsrfForm(mut form): CsrfForm<SignupForm>) -> AppResult<HttpResponse> {
    ctx.state.limits.check_form(ctx.ip)?;
    let (mut errors, role) = validate_signup(&form);
    let rerender = |ctx: &Ctx, form: &mut SignupForm, errors: FormErrors| {
        form.password.clear();
        render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SignupPage { page: ctx.page("Create your account"), form: form.clone(), errors },
        )
    };
    let Some(role) = role.filter(|_| errors.is_empty()) else {
        return rerender(&ctx, &mut form, errors);
    };
    let hash = hash_password(form.password.clone()).await?;
    let email = normalize_email(&form.email);
    let name = form.display_name.trim().to_string();
    let company = form.company.trim().to_string();
    let verify_base = ctx.state.config.url("/verify-email?token=");
    let created = db::run(ctx.pool(), move |conn| {
        conn.write_tx(|conn| {
            let needs_approval = settings::get_bool(conn, settings::REQUIRE_ACCOUNT_APPROVAL, false)?;
            let status = if needs_approval { AccountStatus::PendingApproval } else { AccountStatus::Active };
            let user = match users::create(
                conn,
                UserSpec {
                    email: &email,
                    password_hash: &hash,
                    role,
                    status,
                    display_name: &name,
                    company: &company,
                    verified: false,
                },
            ) {
                Ok(u) => u,
                Err(CreateUserError::EmailTaken) => return Ok(None),
                Err(CreateUserError::Db(e)) => return Err(e.into()),
            };
            let effects = send_verification(conn, &user, &verify_base)?;
            Ok(Some((user, effects)))
        })
    })
    .await?;
    let Some((user, effects)) = created else {
        errors.add("email", "An account with this e-mail already exists. Log in, or reset your password.");
        return rerender(&ctx, &mut form, errors);
    };
    ctx.state.apply(effects);
    tracing::info!(user_id = user.id, role = %user.role, "account created");
    render(&MessagePage {
        page: ctx.page("Check your inbox"),
        heading: "Check your inbox".into(),
        body: format!(
            "We sent a confirmation link to {}. Open it to activate your account; it works for three days.",
            user.email
        ),
        link: Some(("/login".into(), "Go to log in".into())),
    })
}

/// Queue the e-mail with a new confirmation link for `user`.
fn send_verification(conn: &mut db::DbConn, user: &User, verify_base: &str) -> AppResult<Effects> {
    let token = tokens::issue(conn, user.id, Purpose::VerifyEmail)?;
    let email = VerifyEmail { name: user.display_name.clone(), link: format!("{verify_base}{token}") };
    mail::enqueue(conn, &user.email, &email)?;
    Ok(Effects::MAIL)
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

async fn verify_email(ctx: Ctx, q: web::Query<TokenQuery>) -> AppResult<HttpResponse> {
    let token = q.token.clone().unwrap_or_default();
    let outcome = db::run(ctx.pool(), move |conn| {
        conn.write_tx(|conn| {
            let Some(user_id) = tokens::consume(conn, Purpose::VerifyEmail, &token)? else {
                return Ok(None);
            };
            users::mark_verified(conn, user_id)?;
            Ok(users::find(conn, user_id)?)
        })
    })
    .await?;
    let Some(user) = outcome else {
        return render_status(
            StatusCode::BAD_REQUEST,
            &MessagePage {
                page: ctx.page("Link not valid"),
                heading: "This link is not valid any more".into(),
                body: "Confirmation links work once and for three days. Log in to ask for a new one.".into(),
                link: Some(("/login".into(), "Go to log in".into())),
            },
        );
    };
    let body = if user.status() == AccountStatus::PendingApproval {
        "Your e-mail is confirmed. An administrator reviews new accounts; we will e-mail you when yours is active."
    } else {
        "Your e-mail is confirmed. You can log in now."
    };
    render(&MessagePage {
        page: ctx.page("E-mail confirmed"),
        heading: "E-mail confirmed".into(),
        body: body.into(),
        link: Some(("/login".into(), "Log in".into())),
    })
}

#[derive(Deserialize)]
struct EmailForm {
    #[serde(default)]
    email: String,
}

async fn resend_verification(ctx: Ctx, CsrfForm(form): CsrfForm<EmailForm>) -> AppResult<HttpResponse> {
    ctx.state.limits.check_form(ctx.ip)?;
    let email = normalize_email(&form.email);
    let verify_base = ctx.state.config.url("/verify-email?token=");
    let effects = db::run(ctx.pool(), move |conn| {
        conn.write_tx(|conn| match users::find_by_email(conn, &email)?.filter(|u| !u.is_verified()) {
            Some(user) => send_verification(conn, &user, &verify_base),
            None => Ok(Effects::NONE),
        })
    })
    .await?;
    ctx.state.apply(effects);
    ctx.flash("info", "If that account is waiting for confirmation, a new link is on its way.");
    Ok(redirect("/login"))
}

// ---------------------------------------------------------------- log in / out

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    pub email: String,
    pub password: String,
    pub next: String,
}

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    page: Page,
    form: LoginForm,
    error: Option<String>,
    unverified: bool,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_form(ctx: Ctx, q: web::Query<NextQuery>) -> AppResult<HttpResponse> {
    if let Some(u) = &ctx.user {
        return Ok(redirect(u.role().home()));
    }
    let form = LoginForm { next: q.next.clone().unwrap_or_default(), ..Default::default() };
    render(&LoginPage { page: ctx.page("Log in"), form, error: None, unverified: false })
}

/// Only same-site paths may be a post-login target (no `//evil.example`).
fn safe_next(next: &str) -> Option<&str> {
    // Browsers drop tabs and newlines from URLs, so `/\t/evil` would become `//evil`.
    let plain = !next.chars().any(|c| c.is_control() || c == '\\');
    (plain && next.starts_with('/') && !next.starts_with("//")).then_some(next)
}

async fn login_submit(ctx: Ctx, CsrfForm(mut form): CsrfForm<LoginForm>) -> AppResult<HttpResponse> {
    let email = normalize_email(&form.email);
    ctx.state.limits.check_login(ctx.ip, &email)?;
    let lookup = email.clone();
    let user = db::run(ctx.pool(), move |conn| Ok(users::find_by_email(conn, &lookup)?)).await?;
    let ok = verify_password(form.password.clone(), user.as_ref().map(|u| u.password_hash.clone())).await?;
    form.password.clear();
    let refuse = |ctx: &Ctx, form: LoginForm, status: StatusCode, error: &str, unverified: bool| {
        render_status(status, &LoginPage { page: ctx.page("Log in"), form, error: Some(error.into()), unverified })
    };
    let user = match user {
        Some(u) if ok => u,
        _ => {
            tracing::info!(email = %email, ip = %ctx.ip, "failed log-in");
            return refuse(&ctx, form, StatusCode::UNAUTHORIZED, "Wrong e-mail or password.", false);
        }
    };
    if !user.is_verified() {
        return refuse(
            &ctx,
            form,
            StatusCode::FORBIDDEN,
            "Confirm your e-mail address first: open the link we sent you.",
            true,
        );
    }
    match user.status() {
        AccountStatus::Active => {}
        AccountStatus::PendingApproval => {
            return refuse(
                &ctx,
                form,
                StatusCode::FORBIDDEN,
                "Your account is waiting for an administrator's approval.",
                false,
            );
        }
        AccountStatus::Suspended => {
            return refuse(
                &ctx,
                form,
                StatusCode::FORBIDDEN,
                "Your account is suspended. Contact the network's administrators.",
                false,
            );
        }
    }
    // A new session id at every log-in (no session fixation), with a new CSRF token.
    ctx.session.renew();
    ctx.session.insert(USER_ID_KEY, user.id).map_err(|e| AppError::Internal(anyhow::anyhow!("session: {e}")))?;
    csrf::rotate(&ctx.session);
    tracing::info!(user_id = user.id, "logged in");
    Ok(redirect(safe_next(&form.next).unwrap_or(user.role().home())))
}

async fn logout(ctx: Ctx, CsrfForm(_): CsrfForm<NoFields>) -> AppResult<HttpResponse> {
    ctx.session.purge();
    Ok(redirect("/"))
}

// ---------------------------------------------------------------- password reset

#[derive(Template)]
#[template(path = "auth/forgot.html")]
struct ForgotPage {
    page: Page,
}

async fn forgot_form(ctx: Ctx) -> AppResult<HttpResponse> {
    render(&ForgotPage { page: ctx.page("Reset your password") })
}

async fn forgot_submit(ctx: Ctx, CsrfForm(form): CsrfForm<EmailForm>) -> AppResult<HttpResponse> {
    ctx.state.limits.check_form(ctx.ip)?;
    let email = normalize_email(&form.email);
    let reset_base = ctx.state.config.url("/password/reset?token=");
    let effects = db::run(ctx.pool(), move |conn| {
        conn.write_tx(|conn| {
            let Some(user) = users::find_by_email(conn, &email)? else { return Ok(Effects::NONE) };
            let token = tokens::issue(conn, user.id, Purpose::ResetPassword)?;
            let mail = ResetPassword { name: user.display_name.clone(), link: format!("{reset_base}{token}") };
            mail::enqueue(conn, &user.email, &mail)?;
            Ok::<_, AppError>(Effects::MAIL)
        })
    })
    .await?;
    ctx.state.apply(effects);
    // The same answer whether or not the account exists.
    render(&MessagePage {
        page: ctx.page("Check your inbox"),
        heading: "Check your inbox".into(),
        body:
            "If an account uses that address, we sent it a link to choose a new password. The link works for one hour."
                .into(),
        link: Some(("/login".into(), "Back to log in".into())),
    })
}

#[derive(Template)]
#[template(path = "auth/reset.html")]
struct ResetPage {
    page: Page,
    token: String,
    error: Option<String>,
}

async fn reset_form(ctx: Ctx, q: web::Query<TokenQuery>) -> AppResult<HttpResponse> {
    let token = q.token.clone().unwrap_or_default();
    let t = token.clone();
    let valid = db::run(ctx.pool(), move |conn| Ok(tokens::peek(conn, Purpose::ResetPassword, &t)?)).await?;
    if valid.is_none() {
        return invalid_reset_link(&ctx);
    }
    render(&ResetPage { page: ctx.page("Choose a new password"), token, error: None })
}

fn invalid_reset_link(ctx: &Ctx) -> AppResult<HttpResponse> {
    render_status(
        StatusCode::BAD_REQUEST,
        &MessagePage {
            page: ctx.page("Link not valid"),
            heading: "This link is not valid any more".into(),
            body: "Password links work once and for one hour. Ask for a new one.".into(),
            link: Some(("/password/forgot".into(), "Ask for a new link".into())),
        },
    )
}

#[derive(Deserialize)]
struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

async fn reset_submit(ctx: Ctx, CsrfForm(form): CsrfForm<ResetForm>) -> AppResult<HttpResponse> {
    let t = form.token.clone();
    let owner = db::run(ctx.pool(), move |conn| Ok(tokens::peek(conn, Purpose::ResetPassword, &t)?)).await?;
    let Some(user_id) = owner else {
        return invalid_reset_link(&ctx);
    };
    let user = db::run(ctx.pool(), move |conn| Ok(users::find(conn, user_id)?)).await?.ok_or(AppError::NotFound)?;
    let problem = if form.password != form.password_confirm {
        Some("The two passwords differ.")
    } else {
        password_problem(&form.password, &user.email)
    };
    if let Some(p) = problem {
        return render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ResetPage { page: ctx.page("Choose a new password"), token: form.token, error: Some(p.into()) },
        );
    }
    let hash = hash_password(form.password).await?;
    let token = form.token;
    let done = db::run(ctx.pool(), move |conn| {
        conn.write_tx(|conn| {
            if tokens::consume(conn, Purpose::ResetPassword, &token)? != Some(user_id) {
                return Ok(false);
            }
            users::set_password_hash(conn, user_id, &hash)?;
            // The link proves the address works; every old session and every other
            // reset link ends.
            users::mark_verified(conn, user_id)?;
            sessions::delete_for_user(conn, user_id)?;
            tokens::revoke_all(conn, user_id, Purpose::ResetPassword)?;
            Ok(true)
        })
    })
    .await?;
    if !done {
        return invalid_reset_link(&ctx);
    }
    ctx.flash("success", "Your password is changed. Log in with the new one.");
    Ok(redirect("/login"))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_targets_stay_on_site() {
        assert_eq!(safe_next("/advertiser"), Some("/advertiser"));
        assert_eq!(safe_next("//evil.example"), None);
        assert_eq!(safe_next("https://evil.example"), None);
        assert_eq!(safe_next("/\\evil.example"), None);
        assert_eq!(safe_next("/\t/evil.example"), None);
        assert_eq!(safe_next("/\n/evil.example"), None);
        assert_eq!(safe_next(""), None);
    }
}

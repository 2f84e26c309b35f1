//! The account page every role shares: profile, password, API keys.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::db;
use crate::domain::account::password_problem;
use crate::error::{AppError, AppResult};
use crate::store::api_keys::{self, ApiKey};
use crate::store::{sessions, users};
use crate::web::auth::{hash_password, verify_password};
use crate::web::context::{FormErrors, Page, SignedIn, redirect, render_status};
use crate::web::csrf::{CsrfForm, NoFields};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/account", web::get().to(show))
        .route("/account/profile", web::post().to(update_profile))
        .route("/account/password", web::post().to(change_password))
        .route("/account/api-keys", web::post().to(create_key))
        .route("/account/api-keys/{id}/revoke", web::post().to(revoke_key));
}

#[derive(Template)]
#[template(path = "account/show.html")]
struct AccountPage {
    page: Page,
    display_name: String,
    company: String,
    timezone: String,
    email: String,
    keys: Vec<ApiKey>,
    new_key: Option<String>,
    errors: FormErrors,
}

async fn page(
    s: &SignedIn,
    status: StatusCode,
    new_key: Option<String>,
    errors: FormErrors,
) -> AppResult<HttpResponse> {
    let uid = s.user.id;
    let keys = db::run(s.ctx.pool(), move |c| Ok(api_keys::list_for_user(c, uid)?)).await?;
    render_status(
        status,
        &AccountPage {
            page: s.ctx.page("Your account"),
            display_name: s.user.display_name.clone(),
            company: s.user.company.clone(),
            timezone: s.user.timezone.clone(),
            email: s.user.email.clone(),
            keys,
            new_key,
            errors,
        },
    )
}

async fn show(s: SignedIn) -> AppResult<HttpResponse> {
    page(&s, StatusCode::OK, None, FormErrors::default()).await
}

#[derive(Deserialize)]
struct ProfileForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    company: String,
    #[serde(default)]
    timezone: String,
}

async fn update_profile(s: SignedIn, CsrfForm(form): CsrfForm<ProfileForm>) -> AppResult<HttpResponse> {
    let mut errors = FormErrors::default();
    let name = form.display_name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        errors.add("display_name", "Enter a name of 1 to 100 characters.");
    }
    errors.one_line("display_name", &name);
    errors.one_line("company", form.company.trim());
    if form.timezone.parse::<chrono_tz::Tz>().is_err() {
        errors.add("timezone", "Use a time zone name like UTC, Europe/Berlin or America/New_York.");
    }
    if !errors.is_empty() {
        return page(&s, StatusCode::UNPROCESSABLE_ENTITY, None, errors).await;
    }
    let (uid, company, tz) = (s.user.id, form.company.trim().to_string(), form.timezone.clone());
    db::run(s.ctx.pool(), move |c| Ok(users::update_profile(c, uid, &name, &company, &tz)?)).await?;
    s.ctx.flash("success", "Profile saved.");
    Ok(redirect("/account"))
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

async fn change_password(s: SignedIn, CsrfForm(form): CsrfForm<PasswordForm>) -> AppResult<HttpResponse> {
    s.ctx.state.limits.check_login(s.ctx.ip, &s.user.email)?;
    let mut errors = FormErrors::default();
    if !verify_password(form.current_password, Some(s.user.password_hash.clone())).await? {
        errors.add("current_password", "That is not your current password.");
    } else if let Some(p) = password_problem(&form.new_password, &s.user.email) {
        errors.add("new_password", p);
    }
    if !errors.is_empty() {
        return page(&s, StatusCode::UNPROCESSABLE_ENTITY, None, errors).await;
    }
    let hash = hash_password(form.new_password).await?;
    let uid = s.user.id;
    db::run(s.ctx.pool(), move |c| {
        c.write_tx(|c| {
            users::set_password_hash(c, uid, &hash)?;
            // Sign out every other browser (this one gets a fresh session below), and
            // no reset link sent before works any more.
            sessions::delete_for_user(c, uid)?;
            crate::store::tokens::revoke_all(c, uid, crate::store::tokens::Purpose::ResetPassword)?;
            Ok(())
        })
    })
    .await?;
    s.ctx.session.renew();
    s.ctx
        .session
        .insert(crate::web::session_store::USER_ID_KEY, uid)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("session: {e}")))?;
    s.ctx.flash("success", "Password changed. Other sessions were signed out.");
    Ok(redirect("/account"))
}

#[derive(Deserialize)]
struct KeyForm {
    #[serde(default)]
    name: String,
}

async fn create_key(s: SignedIn, CsrfForm(form): CsrfForm<KeyForm>) -> AppResult<HttpResponse> {
    let name = form.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 80 || crate::domain::text::one_line_problem(&name).is_some() {
        let mut errors = FormErrors::default();
        errors.add("name", "Give the key a name of 1 to 80 characters, e.g. the integration that uses it.");
        return page(&s, StatusCode::UNPROCESSABLE_ENTITY, None, errors).await;
    }
    let uid = s.user.id;
    let (plaintext, _) = db::run(s.ctx.pool(), move |c| Ok(api_keys::create(c, uid, &name)?)).await?;
    // Shown on this response only; the database keeps a hash.
    page(&s, StatusCode::OK, Some(plaintext), FormErrors::default()).await
}

async fn revoke_key(s: SignedIn, path: web::Path<i64>, CsrfForm(_): CsrfForm<NoFields>) -> AppResult<HttpResponse> {
    let (uid, key_id) = (s.user.id, path.into_inner());
    let revoked = db::run(s.ctx.pool(), move |c| Ok(api_keys::revoke(c, uid, key_id)?)).await?;
    if !revoked {
        return Err(AppError::NotFound);
    }
    s.ctx.flash("success", "The key is revoked; requests using it are refused from now on.");
    Ok(redirect("/account"))
}

//! Error pages in the site's layout: a page handler's [`AppError`] is answered by
//! `AppError::error_response` with a bare page (it has no request to read); this
//! wrapper, inside the session middleware of the pages scope, renders it again in
//! `base.html` with the visitor's navigation, so a person who followed a stale link
//! can go on from where they are. The API (`ApiError`, JSON) and the tracking
//! routes (no session) keep their own answers.

use actix_session::SessionExt;
use actix_web::dev::ServiceResponse;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::db;
use crate::domain::account::AccountStatus;
use crate::domain::local::Local;
use crate::domain::money::Locale;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::users;
use crate::web::context::{NavUser, Page};
use crate::web::csrf;
use crate::web::session_store::USER_ID_KEY;

#[derive(Template)]
#[template(path = "error_page.html")]
struct ErrorPage {
    page: Page,
    status: u16,
    message: String,
}

/// The response again, in the layout, when it is an [`AppError`]'s HTML page.
pub async fn with_nav(res: ServiceResponse) -> ServiceResponse {
    let Some(error) = res.response().error().and_then(|e| e.as_error::<AppError>()) else { return res };
    if matches!(error, AppError::LoginRequired { .. }) {
        return res;
    }
    let status = res.status();
    let message = error.public_message();
    let title = crate::error::title_of(status).to_string();
    let req = res.request().clone();
    let session = req.get_session();
    let user_id = session.get::<i64>(USER_ID_KEY).ok().flatten();
    let Some(state) = req.app_data::<web::Data<AppState>>() else { return res };
    let user = match user_id {
        Some(id) => db::run(&state.pool, move |c| Ok(users::find(c, id)?)).await.ok().flatten(),
        None => None,
    };
    let user = user.filter(|u| u.status() == AccountStatus::Active);
    let tz = user.as_ref().map_or("UTC", |u| u.timezone.as_str());
    let local = Local::new(Locale::default(), &state.config.currency, tz);
    let page = Page {
        title,
        user: user.as_ref().map(NavUser::of),
        csrf: csrf::token(&session),
        flash: None,
        path: req.uri().path().to_string(),
        local,
    };
    let Ok(body) = (ErrorPage { page, status: status.as_u16(), message }).render() else { return res };
    let mut fresh = HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body);
    // Headers the handler or an inner layer set (Retry-After, Allow…) stay.
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            fresh.headers_mut().append(name.clone(), value.clone());
        }
    }
    res.into_response(fresh.map_into_boxed_body())
}

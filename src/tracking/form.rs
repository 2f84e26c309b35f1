//! The hosted lead form `GET|POST /f/{token}`: a clean page with the offer's
//! required fields and a consent box, for bloggers who have no landing page.
//! Showing the form records a click (so the lead has one, with its sub-ids);
//! sending it goes through the same intake as postbacks.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::client_ip::client_ip;
use crate::db;
use crate::domain::intake::{Channel, Params, Reason};
use crate::state::AppState;
use crate::store::users;
use crate::tracking::click::{lookup, new_click, paused_page, redirect_reason};
use crate::tracking::conversions::submit;
use crate::tracking::intake::{Conversion, Outcome};
use crate::tracking::link_cache::{Link, LinkKey};
use crate::tracking::{param, query_pairs};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/f/{token}", web::get().to(show)).route("/f/{token}", web::post().to(send));
}

struct Field {
    name: String,
    label: String,
    input_type: &'static str,
    autocomplete: &'static str,
    value: String,
}

#[derive(Template)]
#[template(path = "tracking/lead_form.html")]
struct FormPage {
    token: String,
    offer_name: String,
    description: String,
    advertiser: String,
    click_id: String,
    fields: Vec<Field>,
    consent: bool,
    error: Option<String>,
    done: bool,
}

fn field(name: &str, value: &str) -> Field {
    let (label, input_type, autocomplete) = match name {
        "email" => ("E-mail".to_string(), "email", "email"),
        "phone" => ("Phone".to_string(), "tel", "tel"),
        "name" => ("Full name".to_string(), "text", "name"),
        "country" => ("Country".to_string(), "text", "country"),
        "zip" | "postcode" => ("Postcode".to_string(), "text", "postal-code"),
        other => {
            let mut l = other.replace('_', " ");
            if let Some(first) = l.get(0..1) {
                l = first.to_uppercase() + &l[1..];
            }
            (l, "text", "off")
        }
    };
    Field { name: name.to_string(), label, input_type, autocomplete, value: value.to_string() }
}

/// The fields the form asks for: the offer's required ones (e-mail at least).
fn field_names(link: &Link) -> Vec<String> {
    let mut names = link.offer.terms().required_fields;
    if names.is_empty() {
        names.push("email".into());
    }
    names
}

async fn advertiser_name(state: &AppState, id: i64) -> String {
    db::run(&state.pool, move |c| Ok(users::find(c, id)?))
        .await
        .ok()
        .flatten()
        .map(|u| if u.company.is_empty() { u.display_name } else { u.company })
        .unwrap_or_else(|| "The advertiser".into())
}

fn page(status: StatusCode, p: FormPage) -> HttpResponse {
    match p.render() {
        Ok(body) => HttpResponse::build(status)
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "lead form template failed");
            paused_page()
        }
    }
}

/// The plain page of a form the offer does not take (`channel_not_allowed`): the
/// advertiser turned its hosted form off, or the offer is CPS.
fn form_closed_page() -> HttpResponse {
    HttpResponse::Forbidden()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Qualead-Status", format!("rejected:{}", Reason::ChannelNotAllowed.code())))
        .content_type("text/html; charset=utf-8")
        .body(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>Form not available</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main class=\"wrap narrow\">\
             <section class=\"card\"><h1>This form is not available</h1><p>The advertiser does not take requests through this form. Nothing you typed was sent.</p></section>\
             </main></body></html>",
        )
}

async fn live_link(state: &AppState, token: String) -> Option<Link> {
    if token.len() > 64 {
        return None;
    }
    match lookup(state, LinkKey::Token(token)).await {
        Ok(Some(link)) if redirect_reason(&link).is_none() => Some(link),
        _ => None,
    }
}

async fn show(state: web::Data<AppState>, req: HttpRequest, token: web::Path<String>) -> HttpResponse {
    let token = token.into_inner();
    let Some(link) = live_link(&state, token.clone()).await else { return paused_page() };
    if !link.offer.channels().hosted_form {
        return form_closed_page();
    }
    let pairs = query_pairs(&req);
    let get = |n: &str| param(&pairs, &[n]);
    let (click, reason) = new_click(
        &state,
        &req,
        &link,
        [get("sub1"), get("sub2"), get("sub3"), get("sub4"), get("sub5")],
        get("source"),
    );
    let click_id = click.click_id.clone();
    if !state.clicks.write(click).await {
        return paused_page();
    }
    // A visitor the offer does not buy (its targeting) is counted and sees the
    // paused page: a lead from that click would be refused (`not_targeted`).
    if let Some(reason) = reason {
        state.metrics.clicks.with_label_values(&[reason]).inc();
        return paused_page();
    }
    state.metrics.clicks.with_label_values(&["form"]).inc();
    let advertiser = advertiser_name(&state, link.offer.advertiser_id).await;
    let fields = field_names(&link).iter().map(|n| field(n, "")).collect();
    page(
        StatusCode::OK,
        FormPage {
            token,
            offer_name: link.offer.name.clone(),
            description: link.offer.description.clone(),
            advertiser,
            click_id,
            fields,
            consent: false,
            error: None,
            done: false,
        },
    )
}

async fn send(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let token = token.into_inner();
    let Some(link) = live_link(&state, token.clone()).await else { return paused_page() };
    if !link.offer.channels().hosted_form {
        return form_closed_page();
    }
    let form = form.into_inner();
    let get = |n: &str| param(&form, &[n]);
    let names = field_names(&link);
    let consent = get("consent") == "yes";
    let advertiser = advertiser_name(&state, link.offer.advertiser_id).await;
    let mut fp = FormPage {
        token,
        offer_name: link.offer.name.clone(),
        description: link.offer.description.clone(),
        advertiser,
        click_id: get("click_id").to_string(),
        fields: names.iter().map(|n| field(n, get(n))).collect(),
        consent,
        error: None,
        done: false,
    };
    if form.iter().any(|(k, _)| k == "amount" || k == "sum") {
        // The form is a publisher's channel: it never says what a lead is worth.
        fp.error = Some(crate::domain::channels::NO_AMOUNT.into());
        return page(StatusCode::BAD_REQUEST, fp);
    }
    let mut params = Params::default();
    let parsed = params
        .set_click_id(get("click_id"))
        .and_then(|_| params.set_fields(names.iter().map(|n| (n.as_str(), get(n)))));
    if let Err(message) = parsed {
        fp.error = Some(message);
        return page(StatusCode::BAD_REQUEST, fp);
    }
    if params.click_id.is_none() {
        // The form always carries the click its page recorded.
        fp.error = Some("This form has expired. Please open the link again.".into());
        return page(StatusCode::BAD_REQUEST, fp);
    }
    if let Some(missing) = names.iter().find(|n| !params.fields.contains_key(n.as_str())) {
        fp.error = Some(format!("Please fill in {}.", field(missing, "").label.to_lowercase()));
        return page(StatusCode::UNPROCESSABLE_ENTITY, fp);
    }
    let conv = Conversion {
        channel: Channel::Form,
        params,
        offer_id: Some(link.offer.id),
        publisher_id: Some(link.membership.publisher_id),
        consent: Some(consent),
        ip: client_ip(&req, &state.config.trusted_proxies).to_string(),
    };
    match submit(&state, conv).await {
        Some(Outcome::Accepted { .. } | Outcome::Duplicate { .. }) => {
            fp.done = true;
            page(StatusCode::OK, fp)
        }
        Some(Outcome::Rejected { reason: Reason::MissingConsent, .. }) => {
            fp.error = Some("Please tick the box to agree to be contacted.".into());
            page(StatusCode::UNPROCESSABLE_ENTITY, fp)
        }
        Some(Outcome::MissingFields { fields }) => {
            let labels: Vec<String> = fields.iter().map(|n| field(n, "").label.to_lowercase()).collect();
            fp.error = Some(format!("Please fill in {}.", labels.join(", ")));
            page(StatusCode::UNPROCESSABLE_ENTITY, fp)
        }
        Some(Outcome::Rejected { reason, detail }) => {
            fp.error = Some(format!("Your request could not be taken: {detail}."));
            page(StatusCode::from_u16(reason.http_status()).unwrap_or(StatusCode::BAD_REQUEST), fp)
        }
        None => {
            fp.error = Some("Something went wrong on our side. Please send the form again.".into());
            page(StatusCode::SERVICE_UNAVAILABLE, fp)
        }
    }
}

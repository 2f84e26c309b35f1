//! Traffic-source blocks in the browser (DESIGN §5): the advertiser's on its offer
//! page, the admin's across the network on `/admin/source-blocks`, and the ones a
//! publisher is subject to on its offer page.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::db;
use crate::db::DbConn;
use crate::domain::source_block::FIELDS;
use crate::error::{AppError, AppResult};
use crate::marketplace;
use crate::store::source_blocks::{self, Block, Scope};
use crate::web::context::{AdminCtx, AdvertiserCtx, Ctx, Page, redirect, render};
use crate::web::csrf::{CsrfForm, NoFields};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/advertiser/offers/{id}/source-blocks", web::post().to(advertiser_add))
        .route("/advertiser/source-blocks/{bid}/delete", web::post().to(advertiser_remove))
        .route("/admin/source-blocks", web::get().to(admin_page))
        .route("/admin/source-blocks", web::post().to(admin_add))
        .route("/admin/source-blocks/{bid}/delete", web::post().to(admin_remove));
}

/// A block as a page lists it.
pub struct BlockView {
    pub id: i64,
    /// "Clicks whose sub1 is “spam”".
    pub words: String,
    /// "every publisher", or the publisher's name.
    pub whom: String,
    /// "every offer", or the offer's name (the admin's list).
    pub offer: String,
    pub offer_id: Option<i64>,
    pub added: String,
}

/// The views of `blocks`, naming publishers and offers from the maps.
pub fn views(
    blocks: &[Block],
    publishers: &HashMap<i64, String>,
    offers: &HashMap<i64, String>,
    local: &crate::domain::local::Local,
) -> Vec<BlockView> {
    blocks
        .iter()
        .map(|b| BlockView {
            id: b.id,
            words: b.words(),
            whom: b.publisher_id.map_or_else(
                || "every publisher".to_string(),
                |p| publishers.get(&p).cloned().unwrap_or_else(|| format!("publisher #{p}")),
            ),
            offer: b.offer_id.map_or_else(
                || "every offer".to_string(),
                |o| offers.get(&o).cloned().unwrap_or_else(|| format!("offer #{o}")),
            ),
            offer_id: b.offer_id,
            added: local.date(b.created_at),
        })
        .collect()
}

/// The blocks a publisher's link on an offer is subject to, in plain words, with
/// where each comes from ("this offer", "the network").
pub fn for_publisher(conn: &mut DbConn, offer_id: i64, publisher_id: i64) -> AppResult<Vec<(String, &'static str)>> {
    Ok(source_blocks::applying(conn, offer_id, publisher_id)?
        .iter()
        .map(|b| (b.words(), if b.offer_id.is_some() { "this offer" } else { "the whole network" }))
        .collect())
}

#[derive(Deserialize)]
pub struct BlockForm {
    #[serde(default)]
    field: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    value: String,
    /// Empty: every publisher.
    #[serde(default)]
    publisher_id: String,
    /// The admin's form only; empty: every offer.
    #[serde(default)]
    offer_id: String,
}

/// An optional id typed into a form: empty is `None`.
fn optional_id(raw: &str, what: &str) -> Result<Option<i64>, String> {
    let raw = raw.trim().trim_start_matches('#');
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<i64>().map(Some).map_err(|_| format!("{raw:?} is not {what} id (a number, or empty for all)."))
}

/// Add a block from a form and say how it went (a flash message).
async fn add(ctx: &Ctx, user: &crate::store::users::User, offer_id: Option<i64>, form: BlockForm) -> AppResult<()> {
    let publisher_id = match optional_id(&form.publisher_id, "a publisher") {
        Ok(p) => p,
        Err(m) => {
            ctx.flash("error", m);
            return Ok(());
        }
    };
    let who = ctx.acting(user);
    let scope = Scope { offer_id, publisher_id };
    let done = db::run(ctx.pool(), move |c| {
        c.write_tx(|c| marketplace::add_source_block(c, &who, scope, &form.field, &form.mode, &form.value))
    })
    .await;
    match done {
        Ok((_, effects)) => {
            ctx.state.apply(effects);
            ctx.flash("success", "Source blocked: its clicks go to the fallback page from now on and cannot convert.");
        }
        Err(AppError::Invalid(e)) => ctx.flash("error", e.values().cloned().collect::<Vec<_>>().join(" ")),
        Err(e) => return Err(e),
    }
    Ok(())
}

/// Remove a block; the block's offer, for the redirect.
async fn remove(ctx: &Ctx, user: &crate::store::users::User, id: i64) -> AppResult<Option<i64>> {
    let who = ctx.acting(user);
    let (block, effects) =
        db::run(ctx.pool(), move |c| c.write_tx(|c| marketplace::remove_source_block(c, &who, id))).await?;
    ctx.state.apply(effects);
    ctx.flash("success", format!("Block removed: {}.", block.words().replacen("Clicks", "clicks", 1)));
    Ok(block.offer_id)
}

async fn advertiser_add(
    a: AdvertiserCtx,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<BlockForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    add(&a.ctx, &a.user, Some(id), form).await?;
    Ok(redirect(&format!("/advertiser/offers/{id}#source-blocks")))
}

async fn advertiser_remove(
    a: AdvertiserCtx,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<HttpResponse> {
    let offer = remove(&a.ctx, &a.user, path.into_inner()).await?;
    Ok(redirect(
        &offer.map_or_else(|| "/advertiser/offers".to_string(), |o| format!("/advertiser/offers/{o}#source-blocks")),
    ))
}

#[derive(Template)]
#[template(path = "admin/source_blocks.html")]
struct AdminPage {
    page: Page,
    blocks: Vec<BlockView>,
    fields: [&'static str; 6],
}

async fn admin_page(a: AdminCtx) -> AppResult<HttpResponse> {
    let (blocks, publishers, offers) = db::run(a.ctx.pool(), |c| {
        let mut blocks = source_blocks::network(c)?;
        blocks.extend(source_blocks::all_offers(c)?);
        let publishers = crate::store::reports::user_names(c, blocks.iter().filter_map(|b| b.publisher_id))?;
        let mut offers = HashMap::new();
        for id in blocks.iter().filter_map(|b| b.offer_id) {
            if let std::collections::hash_map::Entry::Vacant(e) = offers.entry(id)
                && let Some(o) = crate::store::offers::find(c, id)?
            {
                e.insert(o.listing.name);
            }
        }
        Ok((blocks, publishers, offers))
    })
    .await?;
    render(&AdminPage {
        page: a.ctx.page("Blocked traffic sources"),
        blocks: views(&blocks, &publishers, &offers, &a.ctx.local()),
        fields: FIELDS,
    })
}

async fn admin_add(a: AdminCtx, CsrfForm(form): CsrfForm<BlockForm>) -> AppResult<HttpResponse> {
    match optional_id(&form.offer_id, "an offer") {
        Ok(offer_id) => add(&a.ctx, &a.user, offer_id, form).await?,
        Err(m) => a.ctx.flash("error", m),
    }
    Ok(redirect("/admin/source-blocks"))
}

async fn admin_remove(a: AdminCtx, path: web::Path<i64>, CsrfForm(_): CsrfForm<NoFields>) -> AppResult<HttpResponse> {
    remove(&a.ctx, &a.user, path.into_inner()).await?;
    Ok(redirect("/admin/source-blocks"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn optional_ids_read_as_typed() {
        assert_eq!(super::optional_id("  ", "an offer"), Ok(None));
        assert_eq!(super::optional_id(" #12 ", "an offer"), Ok(Some(12)));
        assert!(super::optional_id("twelve", "a publisher").expect_err("no number").contains("a publisher id"));
    }
}

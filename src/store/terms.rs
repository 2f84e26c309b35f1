//! `offer_terms`: every version of an offer's money and terms that was ever in
//! force, from its `effective_at` on. A lead names the version in force when its
//! click happened (`leads.terms_id`); settlement, returns and the lead pages read it.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::offer_terms;
use crate::domain::terms::FrozenTerms;
use crate::store::now;
use crate::store::offers::Offer;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = offer_terms)]
pub struct TermsRow {
    pub id: i64,
    pub offer_id: i64,
    pub revision_id: Option<i64>,
    pub effective_at: NaiveDateTime,
    pub body: String,
    pub created_at: NaiveDateTime,
}

impl TermsRow {
    /// The version's terms; `None` if the stored text does not read.
    pub fn terms(&self) -> Option<FrozenTerms> {
        let t = FrozenTerms::from_json(&self.body);
        if t.is_none() {
            tracing::error!(terms_id = self.id, offer_id = self.offer_id, "stored offer terms do not read");
        }
        t
    }
}

/// The money and terms an offer has now (its row), as a version to freeze.
pub fn of_offer(o: &Offer) -> FrozenTerms {
    FrozenTerms {
        payout_model: o.payout_model.clone(),
        price_minor: o.price_minor,
        rate_bps: o.rate_bps,
        fee_bps: o.fee_bps,
        events: o.events(),
        terms: o.terms(),
        max_sale_minor: o.channels().max_sale_minor,
        notice_hours: u32::try_from(o.notice_hours).unwrap_or(0),
    }
}

/// Store a version in force from `effective_at`; its id.
pub fn record(
    conn: &mut DbConn,
    offer_id: i64,
    revision_id: Option<i64>,
    effective_at: NaiveDateTime,
    terms: &FrozenTerms,
) -> QueryResult<i64> {
    diesel::insert_into(offer_terms::table)
        .values((
            offer_terms::offer_id.eq(offer_id),
            offer_terms::revision_id.eq(revision_id),
            offer_terms::effective_at.eq(effective_at),
            offer_terms::body.eq(terms.to_json()),
            offer_terms::created_at.eq(now()),
        ))
        .returning(offer_terms::id)
        .get_result(conn)
}

/// Store the offer's current terms as in force from now, unless the version in force
/// now says the same already (a review, a fee change or a resume that changed nothing).
pub fn record_current(conn: &mut DbConn, offer: &Offer) -> QueryResult<i64> {
    let at = now();
    let current = of_offer(offer);
    if let Some(row) = in_force(&for_offer(conn, offer.id)?, at)
        && row.terms().as_ref() == Some(&current)
    {
        return Ok(row.id);
    }
    record(conn, offer.id, None, at, &current)
}

/// Give the versions that take effect after `at` the offer's new fee (an admin's
/// fee change applies to every version from now on).
pub fn set_fee_ahead(conn: &mut DbConn, offer_id: i64, fee_bps: Option<i32>, at: NaiveDateTime) -> QueryResult<usize> {
    let mut n = 0;
    for row in for_offer(conn, offer_id)?.into_iter().filter(|r| r.effective_at > at) {
        let Some(mut t) = row.terms() else { continue };
        t.fee_bps = fee_bps;
        n += diesel::update(offer_terms::table.find(row.id)).set(offer_terms::body.eq(t.to_json())).execute(conn)?;
    }
    Ok(n)
}

/// Every version of an offer, oldest first.
pub fn for_offer(conn: &mut DbConn, offer_id: i64) -> QueryResult<Vec<TermsRow>> {
    offer_terms::table
        .filter(offer_terms::offer_id.eq(offer_id))
        .order((offer_terms::effective_at.asc(), offer_terms::id.asc()))
        .select(TermsRow::as_select())
        .load(conn)
}

/// The version in force at `at` among an offer's versions (oldest first): the
/// latest to take effect by then.
pub fn in_force(rows: &[TermsRow], at: NaiveDateTime) -> Option<&TermsRow> {
    rows.iter().rev().find(|r| r.effective_at <= at)
}

/// The versions with these ids.
pub fn find_many(conn: &mut DbConn, ids: &[i64]) -> QueryResult<HashMap<i64, TermsRow>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<TermsRow> =
            offer_terms::table.filter(offer_terms::id.eq_any(chunk)).select(TermsRow::as_select()).load(conn)?;
        out.extend(rows.into_iter().map(|r| (r.id, r)));
    }
    Ok(out)
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<TermsRow>> {
    offer_terms::table.find(id).select(TermsRow::as_select()).first(conn).optional()
}

/// A lead's terms: the version it names, else (a lead from before versions were
/// kept, or a row that is gone) the offer's current terms.
pub fn of_lead(conn: &mut DbConn, terms_id: Option<i64>, offer: Option<&Offer>) -> QueryResult<FrozenTerms> {
    if let Some(id) = terms_id
        && let Some(t) = find(conn, id)?.and_then(|row| row.terms())
    {
        return Ok(t);
    }
    Ok(offer.map(of_offer).unwrap_or_default())
}

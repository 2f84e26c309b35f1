//! Offers and the publishers who joined them (`offer_publishers`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::crypto::random_token;
use crate::db::DbConn;
use crate::db::schema::{offer_publishers, offers, users};
use crate::domain::account::AccountStatus;
use crate::domain::money::format_minor;
use crate::domain::offer::{
    Caps, Channels, Limits, Listing, OfferBody, OfferSpec, OfferStatus, PayoutModel, Terms, Visibility,
};
use crate::store::now;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = offers)]
pub struct Offer {
    pub id: i64,
    pub advertiser_id: i64,
    #[diesel(embed)]
    pub listing: Listing,
    pub payout_model: String,
    pub price_minor: Option<i64>,
    pub rate_bps: Option<i32>,
    pub events: String,
    pub fee_bps: Option<i32>,
    pub visibility: String,
    pub timezone: String,
    pub status: String,
    pub review_note: String,
    #[diesel(embed)]
    pub limits: Limits,
    pub terms: String,
    pub countries: String,
    pub postback_token: String,
    pub postback_ips: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub pixel: bool,
    pub hosted_form: bool,
    pub publisher_leads: bool,
    pub pixel_signature: bool,
    pub max_sale_minor: Option<i64>,
    pub notice_hours: i32,
}

impl std::ops::Deref for Offer {
    type Target = Listing;
    fn deref(&self) -> &Listing {
        &self.listing
    }
}

impl Offer {
    pub fn status(&self) -> OfferStatus {
        OfferStatus::parse(&self.status).unwrap_or(OfferStatus::Archived)
    }
    pub fn model(&self) -> PayoutModel {
        PayoutModel::parse(&self.payout_model).unwrap_or(PayoutModel::Cpl)
    }
    pub fn visibility(&self) -> Visibility {
        Visibility::parse(&self.visibility).unwrap_or(Visibility::Private)
    }
    pub fn events(&self) -> Vec<String> {
        serde_json::from_str(&self.events).unwrap_or_default()
    }
    pub fn terms(&self) -> Terms {
        serde_json::from_str(&self.terms).unwrap_or_default()
    }
    pub fn caps(&self) -> Caps {
        self.limits.caps()
    }
    /// The offer as an API body: the base a PATCH merges into, and what a round trip returns.
    pub fn body(&self) -> OfferBody {
        let channels = self.channels();
        OfferBody {
            name: self.name.clone(),
            description: self.description.clone(),
            category: self.category.clone(),
            landing_url: self.landing_url.clone(),
            fallback_url: self.fallback_url.clone(),
            payout_model: self.payout_model.clone(),
            price: self.price_minor.map(format_minor),
            rate_bps: self.rate_bps.map(i64::from),
            events: self.events(),
            visibility: self.visibility.clone(),
            timezone: self.timezone.clone(),
            caps: self.caps(),
            terms: self.terms(),
            pixel: Some(channels.pixel),
            hosted_form: Some(channels.hosted_form),
            publisher_leads: channels.publisher_leads,
            pixel_signature: channels.pixel_signature,
            max_sale_amount: channels.max_sale_minor.map(format_minor),
            postback_ips: self.postback_ip_list(),
            notice_hours: Some(u32::try_from(self.notice_hours).unwrap_or(0)),
        }
    }
    /// Which channels may report the offer's conversions (a CPS offer always has a
    /// maximum sale amount, whatever the row holds).
    pub fn channels(&self) -> Channels {
        let model = self.model();
        Channels {
            model,
            pixel: self.pixel,
            hosted_form: self.hosted_form && model != PayoutModel::Cps,
            publisher_leads: self.publisher_leads && model != PayoutModel::Cps,
            pixel_signature: self.pixel_signature,
            max_sale_minor: match model {
                PayoutModel::Cps => Some(self.max_sale_minor.unwrap_or(crate::domain::offer::DEFAULT_MAX_SALE_MINOR)),
                _ => None,
            },
        }
    }
    /// The postback allow-list as its entries.
    pub fn postback_ip_list(&self) -> Vec<String> {
        self.postback_ips.split(',').map(str::trim).filter(|e| !e.is_empty()).map(str::to_string).collect()
    }
    /// Networks allowed to send postbacks; `None` means any sender. (The list is
    /// stored as checked by `config::parse_cidrs`; an entry that does not parse
    /// allows nobody.)
    pub fn postback_nets(&self) -> Option<Vec<ipnet::IpNet>> {
        if self.postback_ips.trim().is_empty() {
            return None;
        }
        Some(self.postback_ips.split(',').filter_map(|e| crate::config::parse_cidrs(e).ok()).flatten().collect())
    }
}

/// `,US,GB,` — lets the marketplace filter by country with a LIKE; empty means every country.
fn countries_key(terms: &Terms) -> String {
    if terms.allowed_countries.is_empty() { String::new() } else { format!(",{},", terms.allowed_countries.join(",")) }
}

fn terms_json(terms: &Terms) -> String {
    serde_json::to_string(terms).unwrap_or_else(|_| "{}".into())
}

fn events_json(events: &[String]) -> String {
    serde_json::to_string(events).unwrap_or_else(|_| "[]".into())
}

/// The columns an advertiser's offer body sets, shared by insert and update.
/// `None` writes NULL (a cap removed is a cap gone).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = offers, treat_none_as_null = true)]
struct OfferFields<'a> {
    #[diesel(embed)]
    listing: Listing,
    payout_model: &'a str,
    price_minor: Option<i64>,
    rate_bps: Option<i32>,
    events: String,
    visibility: &'a str,
    timezone: &'a str,
    #[diesel(embed)]
    limits: Limits,
    terms: String,
    countries: String,
    pixel: bool,
    hosted_form: bool,
    publisher_leads: bool,
    pixel_signature: bool,
    max_sale_minor: Option<i64>,
    postback_ips: String,
    notice_hours: i32,
    updated_at: NaiveDateTime,
}

impl<'a> OfferFields<'a> {
    fn of(s: &'a OfferSpec) -> OfferFields<'a> {
        OfferFields {
            listing: s.listing.clone(),
            payout_model: s.payout_model.as_str(),
            price_minor: s.price_minor,
            rate_bps: s.rate_bps,
            events: events_json(&s.events),
            visibility: s.visibility.as_str(),
            timezone: &s.timezone,
            limits: s.limits,
            terms: terms_json(&s.terms),
            countries: countries_key(&s.terms),
            pixel: s.channels.pixel,
            hosted_form: s.channels.hosted_form,
            publisher_leads: s.channels.publisher_leads,
            pixel_signature: s.channels.pixel_signature,
            max_sale_minor: s.channels.max_sale_minor,
            postback_ips: s.postback_ips.join(","),
            notice_hours: i32::try_from(s.notice_hours).unwrap_or(i32::MAX),
            updated_at: now(),
        }
    }
}

pub fn create(conn: &mut DbConn, advertiser_id: i64, s: &OfferSpec) -> QueryResult<Offer> {
    let token = random_token(24);
    let fields = OfferFields::of(s);
    let created_at = fields.updated_at;
    diesel::insert_into(offers::table)
        .values((
            fields,
            offers::advertiser_id.eq(advertiser_id),
            offers::status.eq(OfferStatus::Draft.as_str()),
            offers::postback_token.eq(&token),
            offers::created_at.eq(created_at),
        ))
        .execute(conn)?;
    offers::table.filter(offers::postback_token.eq(&token)).select(Offer::as_select()).first(conn)
}

pub fn update(conn: &mut DbConn, id: i64, s: &OfferSpec) -> QueryResult<usize> {
    diesel::update(offers::table.find(id)).set(OfferFields::of(s)).execute(conn)
}

/// Move an offer from `from` to `to` only if it is still in `from` (a conditional
/// update, so two racing requests cannot both act on the same state).
pub fn set_status(
    conn: &mut DbConn,
    id: i64,
    from: OfferStatus,
    to: OfferStatus,
    note: Option<&str>,
) -> QueryResult<bool> {
    let target = offers::table.find(id).filter(offers::status.eq(from.as_str()));
    let n = match note {
        Some(n) => diesel::update(target)
            .set((offers::status.eq(to.as_str()), offers::review_note.eq(n), offers::updated_at.eq(now())))
            .execute(conn)?,
        None => {
            diesel::update(target).set((offers::status.eq(to.as_str()), offers::updated_at.eq(now()))).execute(conn)?
        }
    };
    Ok(n == 1)
}

pub fn set_fee(conn: &mut DbConn, id: i64, fee_bps: Option<i32>) -> QueryResult<usize> {
    diesel::update(offers::table.find(id))
        .set((offers::fee_bps.eq(fee_bps), offers::updated_at.eq(now())))
        .execute(conn)
}

pub fn set_postback_ips(conn: &mut DbConn, id: i64, ips: &str) -> QueryResult<usize> {
    diesel::update(offers::table.find(id))
        .set((offers::postback_ips.eq(ips), offers::updated_at.eq(now())))
        .execute(conn)
}

/// The offer a postback token belongs to.
pub fn by_postback_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<Offer>> {
    offers::table.filter(offers::postback_token.eq(token)).select(Offer::as_select()).first(conn).optional()
}

/// Read an offer and hold its row until the transaction ends (`FOR UPDATE` on
/// PostgreSQL; SQLite's write transaction holds the database): an edit and an
/// approved change taking effect cannot overwrite each other.
pub fn lock(conn: &mut DbConn, id: i64) -> QueryResult<Option<Offer>> {
    match conn {
        DbConn::Postgres(c) => offers::table.find(id).select(Offer::as_select()).for_update().first(c).optional(),
        DbConn::Sqlite(_) => find(conn, id),
    }
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Offer>> {
    offers::table.find(id).select(Offer::as_select()).first(conn).optional()
}

/// An offer and whether its advertiser's account is active, in one query (intake
/// reads both for every offer it charges).
pub fn find_with_advertiser_active(conn: &mut DbConn, id: i64) -> QueryResult<Option<(Offer, bool)>> {
    offers::table
        .inner_join(users::table)
        .filter(offers::id.eq(id))
        .select((Offer::as_select(), users::status))
        .first::<(Offer, String)>(conn)
        .optional()
        .map(|found| found.map(|(offer, status)| (offer, status == AccountStatus::Active.as_str())))
}

pub fn list_for_advertiser(conn: &mut DbConn, advertiser_id: i64) -> QueryResult<Vec<Offer>> {
    offers::table
        .filter(offers::advertiser_id.eq(advertiser_id))
        .order(offers::id.desc())
        .select(Offer::as_select())
        .load(conn)
}

/// Every offer (admin), optionally in one status, with its advertiser's e-mail.
pub fn list_all(conn: &mut DbConn, status: Option<OfferStatus>) -> QueryResult<Vec<(Offer, String)>> {
    let mut q = offers::table
        .inner_join(users::table)
        .select((Offer::as_select(), users::email))
        .order(offers::id.desc())
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(offers::status.eq(s.as_str()));
    }
    q.load(conn)
}

#[derive(Debug, Default, Clone)]
pub struct MarketFilter {
    pub q: Option<String>,
    pub category: Option<String>,
    pub model: Option<PayoutModel>,
    pub country: Option<String>,
    /// A minimum in minor units (CPL/CPA); CPS offers are not filtered by it. Here
    /// the price; `marketplace::publisher_market` applies it to the payout.
    pub min_price_minor: Option<i64>,
}

/// What a publisher may browse: active public and approval offers, and private
/// offers it was invited to; with its own membership, if any.
pub fn marketplace(
    conn: &mut DbConn,
    publisher_id: i64,
    f: &MarketFilter,
) -> QueryResult<Vec<(Offer, Option<Membership>)>> {
    let invited = offer_publishers::table
        .filter(offer_publishers::publisher_id.eq(publisher_id))
        .select(offer_publishers::offer_id);
    let mut q = offers::table
        .filter(offers::status.eq(OfferStatus::Active.as_str()))
        .filter(offers::visibility.ne(Visibility::Private.as_str()).or(offers::id.eq_any(invited)))
        .select(Offer::as_select())
        .order(offers::id.desc())
        .limit(500)
        .into_boxed();
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = format!("%{}%", text.replace(['%', '_'], ""));
        q = q.filter(offers::name.like(pattern.clone()).or(offers::description.like(pattern)));
    }
    if let Some(c) = &f.category {
        q = q.filter(offers::category.eq(c.clone()));
    }
    if let Some(m) = f.model {
        q = q.filter(offers::payout_model.eq(m.as_str()));
    }
    if let Some(country) = &f.country {
        q = q.filter(offers::countries.eq("").or(offers::countries.like(format!("%,{country},%"))));
    }
    if let Some(min) = f.min_price_minor {
        q = q.filter(offers::payout_model.eq("cps").or(offers::price_minor.ge(min)));
    }
    let list = q.load(conn)?;
    let ids: Vec<i64> = list.iter().map(|o| o.id).collect();
    let memberships: Vec<Membership> = offer_publishers::table
        .filter(offer_publishers::publisher_id.eq(publisher_id))
        .filter(offer_publishers::offer_id.eq_any(ids))
        .select(Membership::as_select())
        .load(conn)?;
    Ok(list
        .into_iter()
        .map(|o| {
            let m = memberships.iter().find(|m| m.offer_id == o.id).cloned();
            (o, m)
        })
        .collect())
}

// ------------------------------------------------------------------ memberships

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipStatus {
    Pending,
    Approved,
    Rejected,
}

impl MembershipStatus {
    pub const ALL: [MembershipStatus; 3] =
        [MembershipStatus::Pending, MembershipStatus::Approved, MembershipStatus::Rejected];

    pub fn as_str(self) -> &'static str {
        match self {
            MembershipStatus::Pending => "pending",
            MembershipStatus::Approved => "approved",
            MembershipStatus::Rejected => "rejected",
        }
    }
}

/// A publisher's membership of an offer, with its link token.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = offer_publishers)]
pub struct Membership {
    pub id: i64,
    pub offer_id: i64,
    pub publisher_id: i64,
    pub status: String,
    pub token: String,
    pub postback_template: String,
    pub invited: bool,
    pub note: String,
    pub created_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
}

impl Membership {
    pub fn is_approved(&self) -> bool {
        self.status == MembershipStatus::Approved.as_str()
    }
}

/// A membership and whether its publisher's account is active, in one query.
pub fn membership_with_publisher_active(
    conn: &mut DbConn,
    offer_id: i64,
    publisher_id: i64,
) -> QueryResult<Option<(Membership, bool)>> {
    offer_publishers::table
        .inner_join(users::table)
        .filter(offer_publishers::offer_id.eq(offer_id))
        .filter(offer_publishers::publisher_id.eq(publisher_id))
        .select((Membership::as_select(), users::status))
        .first::<(Membership, String)>(conn)
        .optional()
        .map(|found| found.map(|(m, status)| (m, status == AccountStatus::Active.as_str())))
}

pub fn membership(conn: &mut DbConn, offer_id: i64, publisher_id: i64) -> QueryResult<Option<Membership>> {
    offer_publishers::table
        .filter(offer_publishers::offer_id.eq(offer_id))
        .filter(offer_publishers::publisher_id.eq(publisher_id))
        .select(Membership::as_select())
        .first(conn)
        .optional()
}

pub fn membership_by_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<Membership>> {
    offer_publishers::table
        .filter(offer_publishers::token.eq(token))
        .select(Membership::as_select())
        .first(conn)
        .optional()
}

/// Create a membership (unique per offer and publisher) with a fresh 192-bit token.
pub fn add_member(
    conn: &mut DbConn,
    offer_id: i64,
    publisher_id: i64,
    status: MembershipStatus,
    invited: bool,
) -> QueryResult<Membership> {
    let t = now();
    let decided = (status != MembershipStatus::Pending).then_some(t);
    diesel::insert_into(offer_publishers::table)
        .values((
            offer_publishers::offer_id.eq(offer_id),
            offer_publishers::publisher_id.eq(publisher_id),
            offer_publishers::status.eq(status.as_str()),
            offer_publishers::token.eq(random_token(24)),
            offer_publishers::invited.eq(invited),
            offer_publishers::created_at.eq(t),
            offer_publishers::decided_at.eq(decided),
        ))
        .execute(conn)?;
    membership(conn, offer_id, publisher_id)?.ok_or(diesel::result::Error::NotFound)
}

pub fn decide_member(conn: &mut DbConn, id: i64, status: MembershipStatus, note: &str) -> QueryResult<usize> {
    diesel::update(offer_publishers::table.find(id))
        .set((
            offer_publishers::status.eq(status.as_str()),
            offer_publishers::note.eq(note),
            offer_publishers::decided_at.eq(Some(now())),
        ))
        .execute(conn)
}

pub fn set_postback_template(conn: &mut DbConn, id: i64, template: &str) -> QueryResult<usize> {
    diesel::update(offer_publishers::table.find(id)).set(offer_publishers::postback_template.eq(template)).execute(conn)
}

/// The publishers of an offer with their e-mail and name.
pub fn members_of(conn: &mut DbConn, offer_id: i64) -> QueryResult<Vec<(Membership, String, String)>> {
    offer_publishers::table
        .inner_join(users::table)
        .filter(offer_publishers::offer_id.eq(offer_id))
        .order(offer_publishers::id.desc())
        .select((Membership::as_select(), users::email, users::display_name))
        .load(conn)
}

/// A publisher's memberships with their offers.
pub fn memberships_of(conn: &mut DbConn, publisher_id: i64) -> QueryResult<Vec<(Membership, Offer)>> {
    offer_publishers::table
        .inner_join(offers::table)
        .filter(offer_publishers::publisher_id.eq(publisher_id))
        .order(offer_publishers::id.desc())
        .select((Membership::as_select(), Offer::as_select()))
        .load(conn)
}

/// Returns an admin allowed on an offer beyond its maximum return rate.
pub fn return_allowance(conn: &mut DbConn, offer_id: i64) -> QueryResult<i64> {
    use crate::db::schema::return_allowances as r;
    Ok(r::table.find(offer_id).select(r::extra).first(conn).optional()?.unwrap_or(0))
}

pub fn set_return_allowance(conn: &mut DbConn, offer_id: i64, extra: i64, admin_id: i64) -> QueryResult<()> {
    use crate::db::schema::return_allowances as r;
    let at = crate::store::now();
    let updated = diesel::update(r::table.find(offer_id))
        .set((r::extra.eq(extra), r::granted_by.eq(Some(admin_id)), r::updated_at.eq(at)))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(r::table)
            .values((
                r::offer_id.eq(offer_id),
                r::extra.eq(extra),
                r::granted_by.eq(Some(admin_id)),
                r::updated_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

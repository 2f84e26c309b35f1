//! The advertiser's offer form: flat HTML fields that convert to and from the API's
//! [`OfferBody`], so the form and the API share one validation.

use crate::domain::offer::{Caps, Channels, FieldErrors, OfferBody, PayoutModel, Scrub, Terms};

#[derive(Debug, Clone, Default)]
pub struct OfferForm {
    pub name: String,
    pub description: String,
    pub category: String,
    pub landing_url: String,
    pub fallback_url: String,
    pub payout_model: String,
    pub price: String,
    /// The CPS share in percent as typed (`15`, `12.5`); the API's `rate_bps` is it × 100.
    pub rate_pct: String,
    pub events: String,
    pub visibility: String,
    pub timezone: String,
    pub cap_daily: String,
    pub cap_weekly: String,
    pub cap_monthly: String,
    pub cap_total: String,
    pub daily_budget: String,
    pub publisher_cap_daily: String,
    pub publisher_cap_total: String,
    pub required_fields: Vec<String>,
    pub hold_hours: String,
    pub return_window_days: String,
    pub max_return_rate_pct: String,
    pub conversion_window_days: String,
    pub allowed_countries: String,
    pub target_countries: String,
    pub target_devices: String,
    pub target_os: String,
    pub duplicate_days: String,
    pub duplicate_scope: String,
    pub min_seconds: String,
    pub max_conversion_days: String,
    pub max_leads_per_ip: String,
    pub duplicate_click_minutes: String,
    pub duplicate_click_flag: String,
    pub duplicate_click_reject: String,
    pub min_score: String,
    pub block_disposable: bool,
    pub block_bots: bool,
    pub block_datacenter: bool,
    pub block_relay: bool,
    pub check_email: bool,
    pub check_phone: bool,
    pub check_name: bool,
    /// `rules` or `advertiser` (DESIGN §6).
    pub decision: String,
    /// `approve` or `reject`: a lead without a verdict at hold end, in `advertiser` mode.
    pub decision_default: String,
    /// `""` (as usual for the payout model), `on` or `off`.
    pub pixel: String,
    /// Likewise.
    pub hosted_form: String,
    pub publisher_leads: bool,
    pub pixel_signature: bool,
    pub max_sale_amount: String,
    pub postback_ips: String,
    pub notice_hours: String,
    /// `submit` sends a new offer straight to review; anything else saves a draft.
    pub intent: String,
}

fn opt(n: Option<i64>) -> String {
    n.map(|v| v.to_string()).unwrap_or_default()
}

/// A channel setting as the form's choice: `""` when it is what the payout model
/// would give anyway, so that changing the model in the form changes it too.
fn choice(value: Option<bool>, usual: bool) -> String {
    match value {
        Some(v) if v != usual => if v { "on" } else { "off" }.into(),
        _ => String::new(),
    }
}

fn chosen(raw: &str) -> Option<bool> {
    match raw {
        "on" => Some(true),
        "off" => Some(false),
        _ => None,
    }
}

impl OfferForm {
    pub fn from_body(b: &OfferBody) -> OfferForm {
        let t = &b.terms;
        let s = &t.scrub;
        let usual = Channels::defaults(PayoutModel::parse(b.payout_model.trim()).unwrap_or(PayoutModel::Cpl));
        OfferForm {
            name: b.name.clone(),
            description: b.description.clone(),
            category: b.category.clone(),
            landing_url: b.landing_url.clone(),
            fallback_url: b.fallback_url.clone().unwrap_or_default(),
            payout_model: if b.payout_model.is_empty() { "cpl".into() } else { b.payout_model.clone() },
            price: b.price.clone().unwrap_or_default(),
            rate_pct: b.rate_bps.map(percent_of_bps).unwrap_or_default(),
            events: b.events.join(", "),
            visibility: if b.visibility.is_empty() { "public".into() } else { b.visibility.clone() },
            timezone: if b.timezone.is_empty() { "UTC".into() } else { b.timezone.clone() },
            cap_daily: opt(b.caps.daily),
            cap_weekly: opt(b.caps.weekly),
            cap_monthly: opt(b.caps.monthly),
            cap_total: opt(b.caps.total),
            daily_budget: b.caps.daily_budget.clone().unwrap_or_default(),
            publisher_cap_daily: opt(b.caps.publisher_daily),
            publisher_cap_total: opt(b.caps.publisher_total),
            required_fields: t.required_fields.clone(),
            hold_hours: t.hold_hours.to_string(),
            return_window_days: t.return_window_days.to_string(),
            max_return_rate_pct: t.max_return_rate_pct.to_string(),
            conversion_window_days: t.conversion_window_days.to_string(),
            allowed_countries: t.allowed_countries.join(", "),
            target_countries: t.target_countries.join(", "),
            target_devices: t.target_devices.join(", "),
            target_os: t.target_os.join(", "),
            duplicate_days: s.duplicate_days.to_string(),
            duplicate_scope: s.duplicate_scope.clone(),
            min_seconds: s.min_seconds.to_string(),
            max_conversion_days: s.max_conversion_days.to_string(),
            max_leads_per_ip: s.max_leads_per_ip.to_string(),
            duplicate_click_minutes: s.duplicate_click_minutes.to_string(),
            duplicate_click_flag: s.duplicate_click_flag.to_string(),
            duplicate_click_reject: s.duplicate_click_reject.to_string(),
            min_score: s.min_score.to_string(),
            block_disposable: s.block_disposable,
            block_bots: s.block_bots,
            block_datacenter: s.block_datacenter,
            block_relay: s.block_relay,
            check_email: s.check_email,
            check_phone: s.check_phone,
            check_name: s.check_name,
            decision: t.decision.clone(),
            decision_default: t.decision_default.clone(),
            pixel: choice(b.pixel, usual.pixel),
            hosted_form: choice(b.hosted_form, usual.hosted_form),
            publisher_leads: b.publisher_leads,
            pixel_signature: b.pixel_signature,
            max_sale_amount: b.max_sale_amount.clone().unwrap_or_default(),
            postback_ips: b.postback_ips.join(", "),
            notice_hours: b.notice_hours.map(|n| n.to_string()).unwrap_or_default(),
            intent: String::new(),
        }
    }

    /// Read the posted fields (checkboxes are present only when ticked).
    pub fn from_pairs(pairs: &[(String, String)]) -> OfferForm {
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
        let has = |k: &str| pairs.iter().any(|(n, _)| n == k);
        OfferForm {
            name: get("name"),
            description: get("description"),
            category: get("category"),
            landing_url: get("landing_url"),
            fallback_url: get("fallback_url"),
            payout_model: get("payout_model"),
            price: get("price"),
            // A post shaped like the API (`rate_bps`) still reads.
            rate_pct: match (get("rate_pct"), get("rate_bps").trim().parse::<i64>()) {
                (pct, Ok(bps)) if pct.trim().is_empty() => percent_of_bps(bps),
                (pct, _) => pct,
            },
            events: get("events"),
            visibility: get("visibility"),
            timezone: get("timezone"),
            cap_daily: get("cap_daily"),
            cap_weekly: get("cap_weekly"),
            cap_monthly: get("cap_monthly"),
            cap_total: get("cap_total"),
            daily_budget: get("daily_budget"),
            publisher_cap_daily: get("publisher_cap_daily"),
            publisher_cap_total: get("publisher_cap_total"),
            required_fields: pairs.iter().filter(|(n, _)| n == "required_fields").map(|(_, v)| v.clone()).collect(),
            hold_hours: get("hold_hours"),
            return_window_days: get("return_window_days"),
            max_return_rate_pct: get("max_return_rate_pct"),
            conversion_window_days: get("conversion_window_days"),
            allowed_countries: get("allowed_countries"),
            target_countries: get("target_countries"),
            target_devices: get("target_devices"),
            target_os: get("target_os"),
            duplicate_days: get("duplicate_days"),
            duplicate_scope: get("duplicate_scope"),
            min_seconds: get("min_seconds"),
            max_conversion_days: get("max_conversion_days"),
            max_leads_per_ip: get("max_leads_per_ip"),
            duplicate_click_minutes: get("duplicate_click_minutes"),
            duplicate_click_flag: get("duplicate_click_flag"),
            duplicate_click_reject: get("duplicate_click_reject"),
            min_score: get("min_score"),
            block_disposable: has("block_disposable"),
            block_bots: has("block_bots"),
            block_datacenter: has("block_datacenter"),
            block_relay: has("block_relay"),
            check_email: has("check_email"),
            check_phone: has("check_phone"),
            check_name: has("check_name"),
            decision: get("decision"),
            decision_default: get("decision_default"),
            pixel: get("pixel"),
            hosted_form: get("hosted_form"),
            publisher_leads: has("publisher_leads"),
            pixel_signature: has("pixel_signature"),
            max_sale_amount: get("max_sale_amount"),
            postback_ips: get("postback_ips"),
            notice_hours: get("notice_hours"),
            intent: get("intent"),
        }
    }

    /// The API body this form describes, or the fields whose text is not a number.
    pub fn to_body(&self) -> Result<OfferBody, FieldErrors> {
        let mut e = FieldErrors::new();
        let rate_bps = match self.rate_pct.trim().trim_end_matches('%').trim() {
            "" => None,
            pct => crate::domain::money::parse_minor(pct)
                .map_err(|_| e.insert("rate_bps".into(), "Enter the share as a percentage, e.g. 15 or 12.5.".into()))
                .ok(),
        };
        let mut int = |field: &str, raw: &str| -> Option<i64> {
            let raw = raw.trim();
            if raw.is_empty() {
                return None;
            }
            raw.parse::<i64>().map_err(|_| e.insert(field.to_string(), "Enter a whole number.".into())).ok()
        };
        let caps = Caps {
            daily: int("caps.daily", &self.cap_daily),
            weekly: int("caps.weekly", &self.cap_weekly),
            monthly: int("caps.monthly", &self.cap_monthly),
            total: int("caps.total", &self.cap_total),
            daily_budget: Some(self.daily_budget.trim().to_string()).filter(|s| !s.is_empty()),
            publisher_daily: int("caps.publisher_daily", &self.publisher_cap_daily),
            publisher_total: int("caps.publisher_total", &self.publisher_cap_total),
        };
        let notice_hours = int("notice_hours", &self.notice_hours);
        let mut count = |field: &str, raw: &str, default: u32| -> u32 {
            let raw = raw.trim();
            if raw.is_empty() {
                return default;
            }
            raw.parse::<u32>().unwrap_or_else(|_| {
                e.insert(field.to_string(), "Enter a whole number.".into());
                default
            })
        };
        let d = Terms::default();
        let ds = Scrub::default();
        let terms = Terms {
            required_fields: self.required_fields.clone(),
            hold_hours: count("terms.hold_hours", &self.hold_hours, d.hold_hours),
            return_window_days: count("terms.return_window_days", &self.return_window_days, d.return_window_days),
            max_return_rate_pct: count("terms.max_return_rate_pct", &self.max_return_rate_pct, d.max_return_rate_pct),
            conversion_window_days: count(
                "terms.conversion_window_days",
                &self.conversion_window_days,
                d.conversion_window_days,
            ),
            allowed_countries: split_list(&self.allowed_countries),
            target_countries: split_list(&self.target_countries),
            target_devices: split_list(&self.target_devices),
            target_os: split_list(&self.target_os),
            scrub: Scrub {
                duplicate_days: count("terms.scrub.duplicate_days", &self.duplicate_days, ds.duplicate_days),
                duplicate_scope: self.duplicate_scope.clone(),
                min_seconds: count("terms.scrub.min_seconds", &self.min_seconds, ds.min_seconds),
                max_conversion_days: count(
                    "terms.scrub.max_conversion_days",
                    &self.max_conversion_days,
                    ds.max_conversion_days,
                ),
                max_leads_per_ip: count("terms.scrub.max_leads_per_ip", &self.max_leads_per_ip, ds.max_leads_per_ip),
                duplicate_click_minutes: count(
                    "terms.scrub.duplicate_click_minutes",
                    &self.duplicate_click_minutes,
                    ds.duplicate_click_minutes,
                ),
                duplicate_click_flag: count(
                    "terms.scrub.duplicate_click_flag",
                    &self.duplicate_click_flag,
                    ds.duplicate_click_flag,
                ),
                duplicate_click_reject: count(
                    "terms.scrub.duplicate_click_reject",
                    &self.duplicate_click_reject,
                    ds.duplicate_click_reject,
                ),
                block_disposable: self.block_disposable,
                block_bots: self.block_bots,
                block_datacenter: self.block_datacenter,
                block_relay: self.block_relay,
                check_email: self.check_email,
                check_phone: self.check_phone,
                check_name: self.check_name,
                min_score: count("terms.scrub.min_score", &self.min_score, ds.min_score),
            },
            decision: if self.decision.trim().is_empty() { d.decision.clone() } else { self.decision.clone() },
            decision_default: if self.decision_default.trim().is_empty() {
                d.decision_default.clone()
            } else {
                self.decision_default.clone()
            },
        };
        let body = OfferBody {
            name: self.name.clone(),
            description: self.description.clone(),
            category: self.category.clone(),
            landing_url: self.landing_url.clone(),
            fallback_url: Some(self.fallback_url.clone()).filter(|s| !s.trim().is_empty()),
            payout_model: self.payout_model.clone(),
            price: Some(self.price.trim().to_string()).filter(|s| !s.is_empty()),
            rate_bps,
            events: split_list(&self.events),
            visibility: self.visibility.clone(),
            timezone: self.timezone.clone(),
            caps,
            terms,
            pixel: chosen(self.pixel.trim()),
            hosted_form: chosen(self.hosted_form.trim()),
            publisher_leads: self.publisher_leads,
            pixel_signature: self.pixel_signature,
            max_sale_amount: Some(self.max_sale_amount.trim().to_string()).filter(|s| !s.is_empty()),
            postback_ips: split_list(&self.postback_ips),
            // Out of range reads as a value the offer's check refuses with its message.
            notice_hours: notice_hours.map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
        };
        if e.is_empty() { Ok(body) } else { Err(e) }
    }

    pub fn requires(&self, field: &str) -> bool {
        self.required_fields.iter().any(|f| f == field)
    }
}

/// Basis points as the percentage a person types: 1500 → `15`, 1250 → `12.5`.
pub fn percent_of_bps(bps: i64) -> String {
    let text = crate::domain::money::format_minor(bps);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn split_list(raw: &str) -> Vec<String> {
    raw.split([',', ' ', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// Move offer `id` to the status `form` names, as `user` (its advertiser or an
/// admin: `marketplace::change_status` checks which moves each may make), and
/// apply what changed. Returns the new status.
pub async fn change_status(
    ctx: &crate::web::context::Ctx,
    user: &crate::store::users::User,
    id: i64,
    form: &crate::web::context::StatusForm,
) -> crate::error::AppResult<crate::domain::offer::OfferStatus> {
    use crate::error::AppError;
    let to =
        crate::domain::offer::OfferStatus::parse(&form.status).ok_or_else(|| AppError::invalid("unknown status"))?;
    let who = ctx.acting(user);
    let (_, effects) =
        crate::db::run(ctx.pool(), move |c| c.write_tx(|c| crate::marketplace::change_status(c, &who, id, to, None)))
            .await?;
    ctx.state.apply(effects);
    Ok(to)
}

/// A decision on a publisher's application to an offer.
#[derive(Debug, serde::Deserialize)]
pub struct DecideForm {
    pub decision: String,
    /// Why (shown to the publisher); admins send none.
    #[serde(default)]
    pub note: String,
}

/// Approve or decline publisher `publisher_id` on offer `id` as `user` (its
/// advertiser or an admin), apply what changed and say so in a flash.
pub async fn decide_membership(
    ctx: &crate::web::context::Ctx,
    user: &crate::store::users::User,
    (id, publisher_id): (i64, i64),
    form: DecideForm,
) -> crate::error::AppResult<()> {
    let approve = form.decision == "approve";
    let who = ctx.acting(user);
    let (_, effects) = crate::db::run(ctx.pool(), move |c| {
        c.write_tx(|c| crate::marketplace::decide_membership(c, &who, id, publisher_id, approve, &form.note))
    })
    .await?;
    ctx.state.apply(effects);
    ctx.flash("success", if approve { "Publisher approved." } else { "Application declined." });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_survives_the_form() {
        let mut body = OfferBody {
            name: "Solar".into(),
            category: "home".into(),
            landing_url: "https://a.example/?c={click_id}".into(),
            payout_model: "cpa".into(),
            price: Some("40.00".into()),
            events: vec!["registration".into(), "deposit".into()],
            visibility: "approval".into(),
            timezone: "Europe/Berlin".into(),
            ..Default::default()
        };
        body.caps.daily = Some(10);
        body.caps.daily_budget = Some("500.00".into());
        body.terms.allowed_countries = vec!["US".into(), "GB".into()];
        body.terms.target_countries = vec!["US".into()];
        body.terms.target_devices = vec!["phone".into(), "tablet".into()];
        body.terms.target_os = vec!["iOS".into(), "Android".into()];
        body.terms.scrub.block_bots = false;
        body.terms.decision = "advertiser".into();
        body.terms.decision_default = "reject".into();
        body.pixel = Some(false);
        body.publisher_leads = true;
        body.pixel_signature = true;
        body.postback_ips = vec!["203.0.113.10".into(), "198.51.100.0/24".into()];
        body.notice_hours = Some(48);
        let back = OfferForm::from_body(&body).to_body().expect("numbers parse");
        assert_eq!(back, body);
    }

    #[test]
    fn words_in_number_fields_are_field_errors() {
        let mut f = OfferForm::from_body(&OfferBody::default());
        f.cap_daily = "ten".into();
        f.hold_hours = "-1".into();
        let e = f.to_body().expect_err("not numbers");
        assert!(e.contains_key("caps.daily") && e.contains_key("terms.hold_hours"));
    }
}

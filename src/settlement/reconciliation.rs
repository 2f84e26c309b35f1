//! Monthly reconciliation (DESIGN §8 "Monthly reconciliation"): an advertiser's
//! statement of a month, read from the ledger; its confirmation or the lines it
//! disputes; an admin's resolution; the list of months admins still wait on.
//! Each action runs inside the caller's transaction.

use chrono::NaiveDateTime;
use diesel::QueryResult;

use crate::acting::Acting;
use crate::db::DbConn;
use crate::domain::account::Role;
use crate::domain::reconciliation::{Month, Statement};
use crate::error::{AppError, AppResult};
use crate::store::now;
use crate::store::reconciliations::{self as store, Reconciliation};
use crate::store::users::{self, User};

/// The advertiser's statement of `month` (month to date for the current month).
pub fn statement(conn: &mut DbConn, advertiser_id: i64, month: Month) -> QueryResult<Statement> {
    let (from, to) = (month.start(), month.end());
    let opening = store::balance_at(conn, advertiser_id, from)?;
    let closing = store::balance_at(conn, advertiser_id, to)?;
    let movements = store::movements(conn, advertiser_id, from, to)?;
    let names = store::offer_names(conn, advertiser_id)?;
    let received = store::received(conn, advertiser_id, from, to)?;
    let opened = store::opened(conn, advertiser_id, from, to)?;
    Ok(Statement::build(month, opening, closing, &movements, &names, &received, &opened))
}

/// The advertiser `who` acts for, or `Forbidden`.
fn advertiser_of(who: &Acting) -> AppResult<i64> {
    match who.role() {
        Role::Advertiser => Ok(who.user.id),
        _ => Err(AppError::Forbidden),
    }
}

/// A month that can be decided: closed, and not already confirmed or resolved.
fn decidable(conn: &mut DbConn, advertiser_id: i64, month: Month) -> AppResult<Option<Reconciliation>> {
    if !month.is_closed(now()) {
        return Err(AppError::conflict(
            "month_not_closed",
            format!("{} is not over yet; its statement can be confirmed from the 1st of next month.", month.label()),
        ));
    }
    let existing = store::find(conn, advertiser_id, &month.to_string())?;
    match existing.as_ref().map(|r| r.status.as_str()) {
        Some("confirmed") => Err(AppError::conflict(
            "already_confirmed",
            format!("You confirmed the statement of {} already.", month.label()),
        )),
        Some("resolved") => Err(AppError::conflict(
            "already_resolved",
            format!("The statement of {} was disputed and resolved; it is closed.", month.label()),
        )),
        _ => Ok(existing),
    }
}

/// The statement as the advertiser saw it (JSON): without the platform fee, which
/// advertisers never see (DESIGN §13).
fn snapshot(st: &Statement) -> String {
    let mut seen = st.clone();
    seen.offers.iter_mut().for_each(|o| o.fee = 0);
    serde_json::to_string(&seen).unwrap_or_default()
}

/// A second answer for the same month that lost the race to the first.
fn answered_meanwhile(e: diesel::result::Error, month: Month) -> AppError {
    if crate::store::is_unique_violation(&e) {
        AppError::conflict(
            "already_answered",
            format!("{} was answered meanwhile; reload the statement.", month.label()),
        )
    } else {
        e.into()
    }
}

/// The advertiser confirms a closed month's statement as it reads now.
pub fn confirm(conn: &mut DbConn, who: &Acting, month: Month) -> AppResult<Reconciliation> {
    let advertiser_id = advertiser_of(who)?;
    if let Some(r) = decidable(conn, advertiser_id, month)? {
        return Err(AppError::conflict(
            "already_disputed",
            format!(
                "You disputed {} of {}; an admin resolves them first.",
                crate::i18n::count_words(store::lines(conn, r.id)?.len() as i64, "line"),
                month.label()
            ),
        ));
    }
    let st = statement(conn, advertiser_id, month)?;
    let key = month.to_string();
    store::insert(conn, advertiser_id, &key, "confirmed", st.closing.total(), &snapshot(&st), who.user.id)
        .map_err(|e| answered_meanwhile(e, month))?;
    store::find(conn, advertiser_id, &key)?.ok_or(AppError::NotFound)
}

/// The advertiser disputes a line of a closed month's statement, with a comment.
/// Several lines may be disputed, one at a time, until an admin resolves the month.
pub fn dispute(conn: &mut DbConn, who: &Acting, month: Month, line: &str, comment: &str) -> AppResult<Reconciliation> {
    let advertiser_id = advertiser_of(who)?;
    let comment = comment.trim();
    if comment.is_empty() || comment.chars().count() > 2000 {
        return Err(AppError::invalid("Say what is wrong with the line (up to 2000 characters)."));
    }
    let existing = decidable(conn, advertiser_id, month)?;
    let st = statement(conn, advertiser_id, month)?;
    if !st.has_line(line) {
        return Err(AppError::invalid(format!("{line:?} is not a line of the statement of {}.", month.label())));
    }
    let id = match existing {
        Some(r) => {
            if !store::still_disputed(conn, r.id)? {
                return Err(AppError::conflict(
                    "already_resolved",
                    format!("The dispute of {} was resolved meanwhile; the month is closed.", month.label()),
                ));
            }
            r.id
        }
        None => store::insert(
            conn,
            advertiser_id,
            &month.to_string(),
            "disputed",
            st.closing.total(),
            &snapshot(&st),
            who.user.id,
        )
        .map_err(|e| answered_meanwhile(e, month))?,
    };
    store::add_line(conn, id, line, comment)?;
    store::find(conn, advertiser_id, &month.to_string())?.ok_or(AppError::NotFound)
}

/// An admin resolves a disputed month with a note (what was done: a deposit, a
/// reversal, or why the figures stand).
pub fn resolve(
    conn: &mut DbConn,
    who: &Acting,
    advertiser_id: i64,
    month: Month,
    note: &str,
) -> AppResult<Reconciliation> {
    if who.role() != Role::Admin {
        return Err(AppError::Forbidden);
    }
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 2000 {
        return Err(AppError::invalid("Say how the dispute was resolved (up to 2000 characters)."));
    }
    let key = month.to_string();
    let not_disputed =
        || AppError::conflict("not_disputed", format!("The statement of {} is not disputed.", month.label()));
    let r = store::find(conn, advertiser_id, &key)?.ok_or_else(not_disputed)?;
    if store::resolve(conn, r.id, note, who.user.id)? == 0 {
        return Err(not_disputed());
    }
    who.audit(conn, "reconciliation.resolve", ("user", Some(advertiser_id)), &format!("{key}: {note}"))?;
    store::find(conn, advertiser_id, &key)?.ok_or(AppError::NotFound)
}

/// A month an admin waits on: not confirmed by its advertiser, or disputed.
pub struct Open {
    pub advertiser: User,
    pub month: Month,
    /// `awaiting` (the advertiser has not answered) or `disputed`.
    pub status: &'static str,
    pub disputed_lines: i64,
}

/// How many closed months back an admin's list looks for months not yet confirmed.
pub const LOOK_BACK_MONTHS: usize = 3;

/// Advertisers the list looks at (newest first).
const MAX_ADVERTISERS: i64 = 10_000;

/// Open reconciliations: the last [`LOOK_BACK_MONTHS`] closed months of every
/// advertiser whose money moved in them and who has not confirmed them, and every
/// disputed month; newest first.
pub fn open(conn: &mut DbConn, at: NaiveDateTime) -> QueryResult<Vec<Open>> {
    let mut months = vec![Month::of(at).prev()];
    while months.len() < LOOK_BACK_MONTHS {
        months.push(months.last().expect("one").prev());
    }
    let keys: Vec<String> = months.iter().map(Month::to_string).collect();
    let decided = store::of_months_or_disputed(conn, &keys)?;
    let counts = store::line_counts(conn, &decided.iter().map(|r| r.id).collect::<Vec<_>>())?;
    let advertisers = users::list(conn, Some(Role::Advertiser), None, MAX_ADVERTISERS)?;
    let mut out = Vec::new();
    for a in &advertisers {
        for m in &months {
            let key = m.to_string();
            if decided.iter().any(|r| r.advertiser_id == a.id && r.month == key) {
                continue;
            }
            if store::had_activity(conn, a.id, m.start(), m.end())? {
                out.push(Open { advertiser: a.clone(), month: *m, status: "awaiting", disputed_lines: 0 });
            }
        }
    }
    // Every disputed month, whoever its advertiser (not only the listed ones).
    let disputed: Vec<&Reconciliation> = decided.iter().filter(|r| r.status == "disputed").collect();
    let owners = store::advertisers_of(conn, &disputed.iter().map(|r| r.advertiser_id).collect::<Vec<_>>())?;
    for r in disputed {
        let (Some(month), Some(advertiser)) = (Month::parse(&r.month), owners.iter().find(|a| a.id == r.advertiser_id))
        else {
            continue;
        };
        out.push(Open {
            advertiser: advertiser.clone(),
            month,
            status: "disputed",
            disputed_lines: counts.get(&r.id).copied().unwrap_or(0),
        });
    }
    out.sort_by(|a, b| b.month.cmp(&a.month).then(a.advertiser.id.cmp(&b.advertiser.id)));
    Ok(out)
}

//! The lead state machine of DESIGN §6 and the ledger postings of §8 that go with
//! each of its money events. Pure: the settlement and action code in
//! `crate::settlement` applies these in the same database transaction as the
//! status change.

use std::fmt;
use std::str::FromStr;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

/// Where a lead is in DESIGN §6. Stored as its name (`pending`, …) on both
/// databases; an unknown name read back is a deserialization error, never a
/// silently ignored string.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[serde(rename_all = "snake_case")]
pub enum LeadStatus {
    /// Accepted; its price held in escrow until it is decided.
    #[default]
    Pending,
    Approved,
    Rejected,
    /// Returned (from approved) or contested (from rejected), until an admin rules.
    Disputed,
    /// An approved lead whose return was upheld.
    Reversed,
}

impl LeadStatus {
    pub const ALL: [LeadStatus; 5] =
        [LeadStatus::Pending, LeadStatus::Approved, LeadStatus::Rejected, LeadStatus::Disputed, LeadStatus::Reversed];

    /// The stored names, in the order of [`LeadStatus::ALL`].
    pub const NAMES: [&'static str; 5] = ["pending", "approved", "rejected", "disputed", "reversed"];

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    pub fn is_pending(self) -> bool {
        self == LeadStatus::Pending
    }

    pub fn is_approved(self) -> bool {
        self == LeadStatus::Approved
    }

    pub fn is_rejected(self) -> bool {
        self == LeadStatus::Rejected
    }

    pub fn is_disputed(self) -> bool {
        self == LeadStatus::Disputed
    }

    /// A status whose move into it is a decision (dated on the lead).
    pub fn is_decision(self) -> bool {
        matches!(self, LeadStatus::Approved | LeadStatus::Rejected | LeadStatus::Reversed)
    }
}

impl fmt::Display for LeadStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LeadStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<LeadStatus, String> {
        LeadStatus::ALL.into_iter().find(|l| l.as_str() == s).ok_or_else(|| format!("{s:?} is not a lead status"))
    }
}

impl<DB: Backend> ToSql<Text, DB> for LeadStatus
where
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        self.as_str().to_sql(out)
    }
}

impl<DB: Backend> FromSql<Text, DB> for LeadStatus
where
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        Ok(String::from_sql(bytes)?.parse()?)
    }
}

/// Who moves a lead (DESIGN §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mover {
    /// The settlement run at hold end (the scrub rules, or the offer's default).
    Settlement,
    /// The advertiser, by any of its channels (UI, API, postback, CSV, webhook).
    Advertiser,
    Publisher,
    Admin,
}

impl Mover {
    pub fn as_str(self) -> &'static str {
        match self {
            Mover::Settlement => "settlement run",
            Mover::Advertiser => "advertiser",
            Mover::Publisher => "publisher",
            Mover::Admin => "admin",
        }
    }
}

/// The money a move posts (DESIGN §8), when it posts any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posts {
    Nothing,
    /// [`MoneyEvent::Approved`]
    Approval,
    /// [`MoneyEvent::Rejected`]
    Release,
    /// [`MoneyEvent::Reversed`]
    Reversal,
    /// [`MoneyEvent::ContestUpheld`]
    ContestUpheld,
}

/// One allowed move: from, to, for a lead disputed from `origin` (moves out of
/// `disputed` only), who may make it, and what money it posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: LeadStatus,
    pub to: LeadStatus,
    pub origin: Option<LeadStatus>,
    pub by: &'static [Mover],
    pub posts: Posts,
}

/// DESIGN §6 as data: every move a lead can make. Anything else is refused.
pub const TRANSITIONS: &[Transition] = {
    use LeadStatus::*;
    use Mover::*;
    const fn t(
        from: LeadStatus,
        to: LeadStatus,
        origin: Option<LeadStatus>,
        by: &'static [Mover],
        posts: Posts,
    ) -> Transition {
        Transition { from, to, origin, by, posts }
    }
    &[
        // Decided at hold end, or early by the advertiser (or an admin).
        t(Pending, Approved, None, &[Settlement, Advertiser, Admin], Posts::Approval),
        t(Pending, Rejected, None, &[Settlement, Advertiser, Admin], Posts::Release),
        // A return, within the window; a contest of a rejection.
        t(Approved, Disputed, None, &[Advertiser], Posts::Nothing),
        t(Rejected, Disputed, None, &[Publisher], Posts::Nothing),
        // An admin's ruling: a return upheld or denied, a contest upheld or denied.
        t(Disputed, Reversed, Some(Approved), &[Admin], Posts::Reversal),
        t(Disputed, Approved, Some(Approved), &[Admin], Posts::Nothing),
        t(Disputed, Approved, Some(Rejected), &[Admin], Posts::ContestUpheld),
        t(Disputed, Rejected, Some(Rejected), &[Admin], Posts::Nothing),
    ]
};

/// Why a move is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveError {
    /// No such move from this status (for this dispute).
    Impossible { from: LeadStatus, to: LeadStatus },
    /// The move exists, but not for this mover.
    NotYours { from: LeadStatus, to: LeadStatus, by: Mover },
}

impl fmt::Display for MoveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MoveError::Impossible { from, to } => write!(f, "the lead is {from} and cannot become {to}"),
            MoveError::NotYours { from, to, by } => {
                write!(f, "the {} may not move the lead from {from} to {to}", by.as_str())
            }
        }
    }
}

/// The move from `from` to `to` by `by`, for a lead disputed from `origin`.
pub fn transition(
    from: LeadStatus,
    to: LeadStatus,
    origin: Option<LeadStatus>,
    by: Mover,
) -> Result<&'static Transition, MoveError> {
    let found = TRANSITIONS
        .iter()
        .find(|t| t.from == from && t.to == to && (t.origin.is_none() || t.origin == origin))
        .ok_or(MoveError::Impossible { from, to })?;
    if !found.by.contains(&by) {
        return Err(MoveError::NotYours { from, to, by });
    }
    Ok(found)
}

/// Money of one lead: price = payout + fee (see [`crate::domain::offer::split_price`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LeadMoney {
    pub price: i64,
    pub payout: i64,
    pub fee: i64,
}

/// Ledger account names (DESIGN §8).
pub fn advertiser_account(id: i64) -> String {
    format!("advertiser:{id}")
}
pub fn escrow_account(advertiser_id: i64) -> String {
    format!("escrow:{advertiser_id}")
}
pub fn publisher_account(id: i64) -> String {
    format!("publisher:{id}")
}
pub const PLATFORM_FEES: &str = "platform:fees";
pub const EXTERNAL: &str = "external";

/// One movement of money: `amount` (> 0) leaves `from` and arrives on `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub from: String,
    pub to: String,
    pub amount: i64,
}

impl Transfer {
    pub fn new(from: impl Into<String>, to: impl Into<String>, amount: i64) -> Transfer {
        Transfer { from: from.into(), to: to.into(), amount }
    }
}

/// The money events of DESIGN §8's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyEvent {
    /// An admin records an advertiser deposit: external → advertiser.
    Deposit { advertiser_id: i64, amount: i64 },
    /// A lead is accepted (pending): advertiser → escrow, the price.
    Accepted { advertiser_id: i64, money: LeadMoney },
    /// A pending lead is approved: escrow → publisher (payout), escrow → fees (fee).
    Approved { advertiser_id: i64, publisher_id: i64, money: LeadMoney },
    /// A pending lead is rejected: escrow → advertiser, the price.
    Rejected { advertiser_id: i64, money: LeadMoney },
    /// An approved lead is reversed (return upheld): publisher → advertiser (payout),
    /// fees → advertiser (fee).
    Reversed { advertiser_id: i64, publisher_id: i64, money: LeadMoney },
    /// A contested rejection is upheld: advertiser → publisher (payout), advertiser → fees (fee).
    ContestUpheld { advertiser_id: i64, publisher_id: i64, money: LeadMoney },
    /// A publisher payout is paid: publisher → external.
    PayoutPaid { publisher_id: i64, amount: i64 },
}

impl MoneyEvent {
    /// The ledger transaction's kind, as stored.
    pub fn kind(&self) -> &'static str {
        match self {
            MoneyEvent::Deposit { .. } => "deposit",
            MoneyEvent::Accepted { .. } => "lead_accepted",
            MoneyEvent::Approved { .. } => "lead_approved",
            MoneyEvent::Rejected { .. } => "lead_rejected",
            MoneyEvent::Reversed { .. } => "lead_reversed",
            MoneyEvent::ContestUpheld { .. } => "contest_upheld",
            MoneyEvent::PayoutPaid { .. } => "payout_paid",
        }
    }

    /// The transfers of the event, exactly as DESIGN §8 lists them.
    pub fn transfers(&self) -> Vec<Transfer> {
        match *self {
            MoneyEvent::Deposit { advertiser_id, amount } => {
                vec![Transfer::new(EXTERNAL, advertiser_account(advertiser_id), amount)]
            }
            MoneyEvent::Accepted { advertiser_id, money } => {
                vec![Transfer::new(advertiser_account(advertiser_id), escrow_account(advertiser_id), money.price)]
            }
            MoneyEvent::Approved { advertiser_id, publisher_id, money } => vec![
                Transfer::new(escrow_account(advertiser_id), publisher_account(publisher_id), money.payout),
                Transfer::new(escrow_account(advertiser_id), PLATFORM_FEES, money.fee),
            ],
            MoneyEvent::Rejected { advertiser_id, money } => {
                vec![Transfer::new(escrow_account(advertiser_id), advertiser_account(advertiser_id), money.price)]
            }
            MoneyEvent::Reversed { advertiser_id, publisher_id, money } => vec![
                Transfer::new(publisher_account(publisher_id), advertiser_account(advertiser_id), money.payout),
                Transfer::new(PLATFORM_FEES, advertiser_account(advertiser_id), money.fee),
            ],
            MoneyEvent::ContestUpheld { advertiser_id, publisher_id, money } => vec![
                Transfer::new(advertiser_account(advertiser_id), publisher_account(publisher_id), money.payout),
                Transfer::new(advertiser_account(advertiser_id), PLATFORM_FEES, money.fee),
            ],
            MoneyEvent::PayoutPaid { publisher_id, amount } => {
                vec![Transfer::new(publisher_account(publisher_id), EXTERNAL, amount)]
            }
        }
    }
}

/// Reasons an advertiser gives to return an approved lead or reject a pending one
/// early (DESIGN §6). `other` needs a comment.
pub const RETURN_REASONS: [&str; 6] =
    ["bad_contact", "duplicate", "out_of_criteria", "consumer_denies", "fraud_suspected", "other"];

/// Check a return / early-rejection reason and its comment.
pub fn check_reason(reason: &str, comment: &str) -> Result<(), String> {
    if !RETURN_REASONS.contains(&reason) {
        return Err(format!("reason must be one of {}", RETURN_REASONS.join(", ")));
    }
    if reason == "other" && comment.trim().is_empty() {
        return Err("reason \"other\" needs a comment".into());
    }
    if comment.chars().count() > 2000 {
        return Err("the comment is longer than 2000 characters".into());
    }
    Ok(())
}

/// An admin's ruling on a dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ruling {
    /// The party that opened the dispute is right.
    Upheld,
    Denied,
}

impl Ruling {
    pub fn parse(s: &str) -> Option<Ruling> {
        match s {
            "upheld" => Some(Ruling::Upheld),
            "denied" => Some(Ruling::Denied),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Ruling::Upheld => "upheld",
            Ruling::Denied => "denied",
        }
    }
}

impl Posts {
    /// The money event of a move for a lead with these parties and money.
    pub fn event(self, advertiser_id: i64, publisher_id: i64, money: LeadMoney) -> Option<MoneyEvent> {
        match self {
            Posts::Nothing => None,
            Posts::Approval => Some(MoneyEvent::Approved { advertiser_id, publisher_id, money }),
            Posts::Release => Some(MoneyEvent::Rejected { advertiser_id, money }),
            Posts::Reversal => Some(MoneyEvent::Reversed { advertiser_id, publisher_id, money }),
            Posts::ContestUpheld => Some(MoneyEvent::ContestUpheld { advertiser_id, publisher_id, money }),
        }
    }
}

/// What a ruling does to a disputed lead that came from `disputed_from`: its new
/// status and the money event, if any (DESIGN §6, §8; the moves are in [`TRANSITIONS`]).
///
/// | dispute | upheld | denied |
/// |---|---|---|
/// | return (from approved) | reversed, [`MoneyEvent::Reversed`] | approved, no money |
/// | contest (from rejected) | approved, [`MoneyEvent::ContestUpheld`] | rejected, no money |
pub fn ruling_outcome(
    disputed_from: LeadStatus,
    ruling: Ruling,
    advertiser_id: i64,
    publisher_id: i64,
    money: LeadMoney,
) -> Option<(LeadStatus, Option<MoneyEvent>)> {
    let to = match (disputed_from, ruling) {
        (LeadStatus::Approved, Ruling::Upheld) => LeadStatus::Reversed,
        (LeadStatus::Approved, Ruling::Denied) | (LeadStatus::Rejected, Ruling::Upheld) => LeadStatus::Approved,
        (LeadStatus::Rejected, Ruling::Denied) => LeadStatus::Rejected,
        _ => return None,
    };
    let t = transition(LeadStatus::Disputed, to, Some(disputed_from), Mover::Admin).ok()?;
    Some((to, t.posts.event(advertiser_id, publisher_id, money)))
}

/// The dispute kind for the status a lead is disputed from.
pub fn dispute_kind(from: LeadStatus) -> Option<&'static str> {
    match from {
        LeadStatus::Approved => Some("return"),
        LeadStatus::Rejected => Some("contest"),
        _ => None,
    }
}

/// How many returns an offer allows: `ceil(max_rate_pct × approved / 100)` plus
/// what an admin granted beyond that. `approved` counts every lead of the offer
/// that was ever approved (approved, reversed, or disputed after approval);
/// rounding up lets a new offer's first return through.
pub fn returns_allowed(max_rate_pct: u32, approved: i64, extra: i64) -> i64 {
    (i64::from(max_rate_pct.min(100)) * approved.max(0) + 99) / 100 + extra.max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::offer::{apply_bps, split_price};
    use proptest::prelude::*;

    fn sum_of(transfers: &[Transfer]) -> std::collections::HashMap<String, i64> {
        let mut net = std::collections::HashMap::new();
        for t in transfers {
            *net.entry(t.from.clone()).or_insert(0) -= t.amount;
            *net.entry(t.to.clone()).or_insert(0) += t.amount;
        }
        net
    }

    fn money_of(price: i64, fee_bps: i64) -> LeadMoney {
        let (fee, payout) = split_price(price, fee_bps);
        LeadMoney { price, payout, fee }
    }

    #[test]
    fn postings_follow_design_table() {
        let m = money_of(1250, 2000);
        assert_eq!(m, LeadMoney { price: 1250, payout: 1000, fee: 250 });
        let approved = MoneyEvent::Approved { advertiser_id: 1, publisher_id: 2, money: m }.transfers();
        assert_eq!(
            approved,
            vec![Transfer::new("escrow:1", "publisher:2", 1000), Transfer::new("escrow:1", "platform:fees", 250)]
        );
        let reversed = MoneyEvent::Reversed { advertiser_id: 1, publisher_id: 2, money: m }.transfers();
        assert_eq!(sum_of(&reversed)["advertiser:1"], 1250);
        assert_eq!(sum_of(&reversed)["publisher:2"], -1000);
        let upheld = MoneyEvent::ContestUpheld { advertiser_id: 1, publisher_id: 2, money: m }.transfers();
        assert_eq!(sum_of(&upheld)["advertiser:1"], -1250);
        assert_eq!(sum_of(&upheld)["platform:fees"], 250);
    }

    #[test]
    fn half_up_rounding_of_fee_and_cps() {
        // 0.5 cent rounds up, 0.49 down.
        assert_eq!(apply_bps(5, 1000), 1); // 0.5
        assert_eq!(apply_bps(4, 1000), 0); // 0.4
        assert_eq!(apply_bps(10_005, 5000), 5003); // 5002.5
        assert_eq!(apply_bps(33_33, 1500), 500); // 499.95
        assert_eq!(split_price(999, 2000), (200, 799)); // fee 199.8 → 200
    }

    #[test]
    fn rulings_map_to_design_outcomes() {
        use LeadStatus::*;
        let m = money_of(1000, 2000);
        assert_eq!(ruling_outcome(Approved, Ruling::Denied, 1, 2, m), Some((Approved, None)));
        assert_eq!(ruling_outcome(Rejected, Ruling::Denied, 1, 2, m), Some((Rejected, None)));
        assert!(matches!(ruling_outcome(Approved, Ruling::Upheld, 1, 2, m), Some((Reversed, Some(_)))));
        assert!(matches!(ruling_outcome(Rejected, Ruling::Upheld, 1, 2, m), Some((Approved, Some(_)))));
        assert_eq!(ruling_outcome(Pending, Ruling::Upheld, 1, 2, m), None);
    }

    #[test]
    fn the_transition_table_is_design_section_6() {
        use LeadStatus::*;
        // Every pair of statuses, every mover, every origin: only the listed moves pass.
        let movers = [Mover::Settlement, Mover::Advertiser, Mover::Publisher, Mover::Admin];
        let mut allowed = Vec::new();
        for from in LeadStatus::ALL {
            for to in LeadStatus::ALL {
                for origin in [None, Some(Approved), Some(Rejected)] {
                    for by in movers {
                        if let Ok(t) = transition(from, to, origin, by) {
                            let entry = (from, to, origin.filter(|_| from == Disputed), by, t.posts);
                            if !allowed.contains(&entry) {
                                allowed.push(entry);
                            }
                        }
                    }
                }
            }
        }
        let expect = [
            (Pending, Approved, None, Mover::Settlement, Posts::Approval),
            (Pending, Approved, None, Mover::Advertiser, Posts::Approval),
            (Pending, Approved, None, Mover::Admin, Posts::Approval),
            (Pending, Rejected, None, Mover::Settlement, Posts::Release),
            (Pending, Rejected, None, Mover::Advertiser, Posts::Release),
            (Pending, Rejected, None, Mover::Admin, Posts::Release),
            (Approved, Disputed, None, Mover::Advertiser, Posts::Nothing),
            (Rejected, Disputed, None, Mover::Publisher, Posts::Nothing),
            (Disputed, Approved, Some(Approved), Mover::Admin, Posts::Nothing),
            (Disputed, Approved, Some(Rejected), Mover::Admin, Posts::ContestUpheld),
            (Disputed, Rejected, Some(Rejected), Mover::Admin, Posts::Nothing),
            (Disputed, Reversed, Some(Approved), Mover::Admin, Posts::Reversal),
        ];
        for e in &expect {
            assert!(allowed.contains(e), "{e:?} is allowed");
        }
        assert_eq!(allowed.len(), expect.len(), "nothing else is: {allowed:?}");
        // Nothing leaves reversed; nothing returns to pending.
        assert!(LeadStatus::ALL.iter().all(|&to| transition(Reversed, to, None, Mover::Admin).is_err()));
        assert!(LeadStatus::ALL.iter().all(|&f| transition(f, Pending, Some(Approved), Mover::Admin).is_err()));
        assert_eq!(
            transition(Approved, Disputed, None, Mover::Publisher),
            Err(MoveError::NotYours { from: Approved, to: Disputed, by: Mover::Publisher })
        );
    }

    #[test]
    fn statuses_read_back_as_written() {
        for s in LeadStatus::ALL {
            assert_eq!(s.as_str().parse::<LeadStatus>(), Ok(s));
            assert_eq!(serde_json::to_string(&s).expect("json"), format!("\"{s}\""));
        }
        assert!("Pending".parse::<LeadStatus>().is_err() && "".parse::<LeadStatus>().is_err());
    }

    #[test]
    fn reasons_and_return_allowance() {
        assert!(check_reason("bad_contact", "").is_ok());
        assert!(check_reason("other", "  ").is_err());
        assert!(check_reason("other", "called, wrong person").is_ok());
        assert!(check_reason("because", "").is_err());
        assert_eq!(returns_allowed(20, 10, 0), 2);
        assert_eq!(returns_allowed(20, 11, 0), 3);
        assert_eq!(returns_allowed(20, 4, 0), 1);
        assert_eq!(returns_allowed(20, 0, 0), 0);
        assert_eq!(returns_allowed(0, 40, 3), 3);
        assert_eq!(returns_allowed(150, 4, 0), 4);
    }

    fn any_event() -> impl Strategy<Value = MoneyEvent> {
        (0i64..1_000_000_000, 0i64..=10_000, 1i64..1000, 1i64..1000, 0usize..7).prop_map(|(price, bps, a, p, k)| {
            let money = money_of(price, bps);
            match k {
                0 => MoneyEvent::Deposit { advertiser_id: a, amount: price },
                1 => MoneyEvent::Accepted { advertiser_id: a, money },
                2 => MoneyEvent::Approved { advertiser_id: a, publisher_id: p, money },
                3 => MoneyEvent::Rejected { advertiser_id: a, money },
                4 => MoneyEvent::Reversed { advertiser_id: a, publisher_id: p, money },
                5 => MoneyEvent::ContestUpheld { advertiser_id: a, publisher_id: p, money },
                _ => MoneyEvent::PayoutPaid { publisher_id: p, amount: price },
            }
        })
    }

    proptest! {
        #[test]
        fn every_transaction_balances(event in any_event()) {
            let transfers = event.transfers();
            prop_assert!(transfers.iter().all(|t| t.amount >= 0));
            prop_assert_eq!(sum_of(&transfers).values().sum::<i64>(), 0);
        }

        #[test]
        fn price_is_payout_plus_fee(price in 0i64..100_000_000_000, bps in 0i64..=10_000) {
            let (fee, payout) = split_price(price, bps);
            prop_assert_eq!(fee + payout, price);
            prop_assert!(fee >= 0 && payout >= 0);
            // Half up: the fee is within half a minor unit of the exact value.
            let exact2 = i128::from(price) * i128::from(bps) * 2;
            let got2 = i128::from(fee) * 20_000;
            prop_assert!(got2 - exact2 <= 10_000 && exact2 - got2 < 10_000);
        }

        #[test]
        fn a_lead_life_nets_out(price in 0i64..1_000_000_000, bps in 0i64..=10_000, path in 0usize..4) {
            // accepted → approved → reversed leaves the advertiser whole; accepted → rejected too;
            // accepted → rejected → contest upheld pays exactly as an approval would.
            let money = money_of(price, bps);
            let (a, p) = (7, 9);
            let mut events = vec![MoneyEvent::Accepted { advertiser_id: a, money }];
            match path {
                0 => events.push(MoneyEvent::Approved { advertiser_id: a, publisher_id: p, money }),
                1 => events.extend([
                    MoneyEvent::Approved { advertiser_id: a, publisher_id: p, money },
                    MoneyEvent::Reversed { advertiser_id: a, publisher_id: p, money },
                ]),
                2 => events.push(MoneyEvent::Rejected { advertiser_id: a, money }),
                _ => events.extend([
                    MoneyEvent::Rejected { advertiser_id: a, money },
                    MoneyEvent::ContestUpheld { advertiser_id: a, publisher_id: p, money },
                ]),
            }
            let all: Vec<Transfer> = events.iter().flat_map(|e| e.transfers()).collect();
            let net = sum_of(&all);
            let get = |k: &str| net.get(k).copied().unwrap_or(0);
            prop_assert_eq!(get("escrow:7"), 0);
            let paid = matches!(path, 0 | 3);
            prop_assert_eq!(get("advertiser:7"), if paid { -price } else { 0 });
            prop_assert_eq!(get("publisher:9"), if paid { money.payout } else { 0 });
            prop_assert_eq!(get("platform:fees"), if paid { money.fee } else { 0 });
        }
    }
}

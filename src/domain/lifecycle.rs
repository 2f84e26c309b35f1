//! The lead state machine of DESIGN §6 and the ledger postings of §8 that go with
//! each of its money events. Pure: the settlement and action code in
//! `crate::settlement` applies these in the same database transaction as the
//! status change.

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

/// What a ruling does to a disputed lead that came from `disputed_from`: its new
/// status and the money event, if any (DESIGN §6, §8).
///
/// | dispute | upheld | denied |
/// |---|---|---|
/// | return (from approved) | reversed, [`MoneyEvent::Reversed`] | approved, no money |
/// | contest (from rejected) | approved, [`MoneyEvent::ContestUpheld`] | rejected, no money |
pub fn ruling_outcome(
    disputed_from: &str,
    ruling: Ruling,
    advertiser_id: i64,
    publisher_id: i64,
    money: LeadMoney,
) -> Option<(&'static str, Option<MoneyEvent>)> {
    match (disputed_from, ruling) {
        ("approved", Ruling::Upheld) => {
            Some(("reversed", Some(MoneyEvent::Reversed { advertiser_id, publisher_id, money })))
        }
        ("approved", Ruling::Denied) => Some(("approved", None)),
        ("rejected", Ruling::Upheld) => {
            Some(("approved", Some(MoneyEvent::ContestUpheld { advertiser_id, publisher_id, money })))
        }
        ("rejected", Ruling::Denied) => Some(("rejected", None)),
        _ => None,
    }
}

/// The dispute kind for the status a lead is disputed from.
pub fn dispute_kind(from: &str) -> Option<&'static str> {
    match from {
        "approved" => Some("return"),
        "rejected" => Some("contest"),
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
        let m = money_of(1000, 2000);
        assert_eq!(ruling_outcome("approved", Ruling::Denied, 1, 2, m), Some(("approved", None)));
        assert_eq!(ruling_outcome("rejected", Ruling::Denied, 1, 2, m), Some(("rejected", None)));
        assert!(matches!(ruling_outcome("approved", Ruling::Upheld, 1, 2, m), Some(("reversed", Some(_)))));
        assert!(matches!(ruling_outcome("rejected", Ruling::Upheld, 1, 2, m), Some(("approved", Some(_)))));
        assert_eq!(ruling_outcome("pending", Ruling::Upheld, 1, 2, m), None);
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

//! Monthly reconciliation (DESIGN §8 "Monthly reconciliation"): an advertiser's
//! month of money as lines it can confirm or dispute. Pure: the store reads the
//! ledger's movements, this module arranges them into a statement.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// A calendar month (UTC), written `2026-11`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    year: i32,
    month: u32,
}

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl Month {
    /// `2026-11`; years 2000–9999.
    pub fn parse(raw: &str) -> Option<Month> {
        let (y, m) = raw.split_once('-')?;
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (year, month) = (y.parse().ok()?, m.parse().ok()?);
        ((2000..=9999).contains(&year) && (1..=12).contains(&month)).then_some(Month { year, month })
    }

    /// The month `t` falls in.
    pub fn of(t: NaiveDateTime) -> Month {
        Month { year: t.year(), month: t.month() }
    }

    /// Its first instant.
    pub fn start(self) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
            .expect("a valid month")
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
    }

    /// The first instant after it.
    pub fn end(self) -> NaiveDateTime {
        self.next().start()
    }

    pub fn next(self) -> Month {
        if self.month == 12 { Month { year: self.year + 1, month: 1 } } else { Month { month: self.month + 1, ..self } }
    }

    pub fn prev(self) -> Month {
        if self.month == 1 { Month { year: self.year - 1, month: 12 } } else { Month { month: self.month - 1, ..self } }
    }

    /// `November 2026`.
    pub fn label(self) -> String {
        format!("{} {}", MONTH_NAMES[self.month as usize - 1], self.year)
    }

    /// Whether the month is over at `now`: only a closed month can be confirmed or disputed.
    pub fn is_closed(self, now: NaiveDateTime) -> bool {
        self.end() <= now
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Ledger transactions of one kind on one of an advertiser's two accounts in a
/// month, for one offer (`None`: not about a lead, i.e. deposits): how many, their
/// sum on that account, and the platform fee of their leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Movement {
    pub offer_id: Option<i64>,
    pub kind: String,
    /// `advertiser:{id}` or `escrow:{id}`.
    pub escrow: bool,
    pub count: i64,
    pub amount: i64,
    pub fee: i64,
}

/// A count and an amount (minor units).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    pub count: i64,
    pub amount: i64,
}

/// The advertiser's money at an instant: available to spend, and held in escrow
/// for undecided leads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    pub available: i64,
    pub held: i64,
}

impl Balance {
    pub fn total(&self) -> i64 {
        self.available + self.held
    }
}

/// One offer's month.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferLine {
    pub offer_id: i64,
    pub offer: String,
    /// Leads received this month, by their status when the statement was read.
    pub received: BTreeMap<String, i64>,
    /// Prices reserved from the balance for accepted leads.
    pub reserved: Figure,
    /// Leads approved: their prices charged from escrow.
    pub approved: Figure,
    /// Leads rejected: their reservations released.
    pub rejected: Figure,
    /// Approved leads reversed (returns upheld): their prices refunded.
    pub reversed: Figure,
    /// Contested rejections upheld: their prices charged.
    pub contests_upheld: Figure,
    /// The platform fee within what was charged, net of reversals.
    pub fee: i64,
    /// Returns and contests opened this month.
    pub returns_opened: i64,
    pub contests_opened: i64,
}

impl OfferLine {
    /// What the month cost on this offer: approvals and upheld contests, less reversals.
    pub fn spend(&self) -> i64 {
        self.approved.amount + self.contests_upheld.amount - self.reversed.amount
    }

    pub fn leads_received(&self) -> i64 {
        self.received.values().sum()
    }

    pub fn key(&self) -> String {
        format!("offer:{}", self.offer_id)
    }
}

/// An advertiser's month: opening and closing balance, deposits, and a line per
/// offer. `other` is any money that moved on its accounts outside these kinds (0
/// unless a new kind of posting is added without a line for it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub month: String,
    pub opening: Balance,
    pub closing: Balance,
    pub deposits: Figure,
    pub offers: Vec<OfferLine>,
    pub other: i64,
}

/// The lines an advertiser may dispute: the balances, the deposits, each offer.
pub const BALANCE_LINE: &str = "balance";
pub const DEPOSITS_LINE: &str = "deposits";

impl Statement {
    /// Build a statement from the ledger's movements. `names` names offers;
    /// `received` is `(offer, status, count)`; `opened` is `(offer, dispute kind, count)`.
    pub fn build(
        month: Month,
        opening: Balance,
        closing: Balance,
        movements: &[Movement],
        names: &BTreeMap<i64, String>,
        received: &[(i64, String, i64)],
        opened: &[(i64, String, i64)],
    ) -> Statement {
        let mut offers: BTreeMap<i64, OfferLine> = BTreeMap::new();
        let mut st = Statement { month: month.to_string(), opening, closing, ..Statement::default() };
        let mut explained = 0;
        for m in movements {
            let fig = Figure { count: m.count, amount: m.amount.abs() };
            // Each posting is counted once, on the account where the advertiser's
            // money leaves or arrives; the other side of an accepted or rejected lead
            // is a move between its two accounts and changes nothing in total.
            let Some(id) = m.offer_id else {
                if (m.kind.as_str(), m.escrow) == ("deposit", false) {
                    st.deposits = add(st.deposits, fig);
                    explained += m.amount;
                }
                continue;
            };
            let l = line(&mut offers, names, id);
            match (m.kind.as_str(), m.escrow) {
                ("lead_accepted", false) => l.reserved = add(l.reserved, fig),
                ("lead_rejected", false) => l.rejected = add(l.rejected, fig),
                ("lead_approved", true) => {
                    l.approved = add(l.approved, fig);
                    l.fee += m.fee;
                }
                ("lead_reversed", false) => {
                    l.reversed = add(l.reversed, fig);
                    l.fee -= m.fee;
                }
                ("contest_upheld", false) => {
                    l.contests_upheld = add(l.contests_upheld, fig);
                    l.fee += m.fee;
                }
                _ => {}
            }
        }
        for (id, status, n) in received {
            *line(&mut offers, names, *id).received.entry(status.clone()).or_default() += n;
        }
        for (id, kind, n) in opened {
            let l = line(&mut offers, names, *id);
            match kind.as_str() {
                "return" => l.returns_opened += n,
                "contest" => l.contests_opened += n,
                _ => {}
            }
        }
        st.offers = offers.into_values().collect();
        explained -= st.spend();
        st.other = (closing.total() - opening.total()) - explained;
        st
    }

    /// What the month's leads cost, all offers.
    pub fn spend(&self) -> i64 {
        self.offers.iter().map(OfferLine::spend).sum()
    }

    pub fn fee(&self) -> i64 {
        self.offers.iter().map(|o| o.fee).sum()
    }

    /// Whether a line key names a line of this statement.
    pub fn has_line(&self, key: &str) -> bool {
        key == BALANCE_LINE || key == DEPOSITS_LINE || self.offers.iter().any(|o| o.key() == key)
    }

    /// A line key in words: `Offer #3 Roofs`, `Deposits`, `Opening and closing balance`.
    pub fn line_label(&self, key: &str) -> String {
        match key {
            BALANCE_LINE => "Opening and closing balance".into(),
            DEPOSITS_LINE => "Deposits".into(),
            _ => match self.offers.iter().find(|o| o.key() == key) {
                Some(o) => format!("Offer #{} {}", o.offer_id, o.offer),
                None => key.to_string(),
            },
        }
    }

    /// Every line as `(key, label)`, in the statement's order.
    pub fn lines(&self) -> Vec<(String, String)> {
        let mut keys = vec![BALANCE_LINE.to_string(), DEPOSITS_LINE.to_string()];
        keys.extend(self.offers.iter().map(OfferLine::key));
        keys.into_iter().map(|k| (k.clone(), self.line_label(&k))).collect()
    }

    /// Whether anything happened: a month with no money and no leads needs no confirmation.
    pub fn is_empty(&self) -> bool {
        self.opening == Balance::default()
            && self.closing == Balance::default()
            && self.deposits == Figure::default()
            && self.offers.is_empty()
    }

    /// The statement as CSV records (`month,line,offer_id,offer,item,count,amount,currency`),
    /// header first; amounts with two decimals. The platform fee lines only `with_fee`
    /// (admins: an advertiser never sees the fee, DESIGN §13 "Who sees what").
    pub fn csv_records(&self, currency: &str, with_fee: bool) -> Vec<Vec<String>> {
        let money = crate::domain::money::format_minor;
        let mut out = vec![
            ["month", "line", "offer_id", "offer", "item", "count", "amount", "currency"].map(String::from).to_vec(),
        ];
        let mut push = |line: &str, offer: Option<&OfferLine>, item: &str, count: Option<i64>, amount: Option<i64>| {
            out.push(vec![
                self.month.clone(),
                line.to_string(),
                offer.map(|o| o.offer_id.to_string()).unwrap_or_default(),
                offer.map(|o| o.offer.clone()).unwrap_or_default(),
                item.to_string(),
                count.map(|c| c.to_string()).unwrap_or_default(),
                amount.map(money).unwrap_or_default(),
                if amount.is_some() { currency.to_string() } else { String::new() },
            ])
        };
        push(BALANCE_LINE, None, "opening_available", None, Some(self.opening.available));
        push(BALANCE_LINE, None, "opening_held", None, Some(self.opening.held));
        push(DEPOSITS_LINE, None, "deposits", Some(self.deposits.count), Some(self.deposits.amount));
        for o in &self.offers {
            let key = o.key();
            for (status, n) in &o.received {
                push(&key, Some(o), &format!("received_{status}"), Some(*n), None);
            }
            for (item, f) in [
                ("reserved", o.reserved),
                ("approved", o.approved),
                ("rejected", o.rejected),
                ("reversed", o.reversed),
                ("contests_upheld", o.contests_upheld),
            ] {
                push(&key, Some(o), item, Some(f.count), Some(f.amount));
            }
            push(&key, Some(o), "spend", None, Some(o.spend()));
            if with_fee {
                push(&key, Some(o), "fee", None, Some(o.fee));
            }
            push(&key, Some(o), "returns_opened", Some(o.returns_opened), None);
            push(&key, Some(o), "contests_opened", Some(o.contests_opened), None);
        }
        push("total", None, "spend", None, Some(self.spend()));
        if with_fee {
            push("total", None, "fee", None, Some(self.fee()));
        }
        if self.other != 0 {
            push("total", None, "other", None, Some(self.other));
        }
        push(BALANCE_LINE, None, "closing_available", None, Some(self.closing.available));
        push(BALANCE_LINE, None, "closing_held", None, Some(self.closing.held));
        out
    }
}

/// The line of offer `id`, started on first use.
fn line<'a>(offers: &'a mut BTreeMap<i64, OfferLine>, names: &BTreeMap<i64, String>, id: i64) -> &'a mut OfferLine {
    offers.entry(id).or_insert_with(|| OfferLine {
        offer_id: id,
        offer: names.get(&id).cloned().unwrap_or_else(|| format!("Offer #{id}")),
        ..OfferLine::default()
    })
}

fn add(a: Figure, b: Figure) -> Figure {
    Figure { count: a.count + b.count, amount: a.amount + b.amount }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mv(offer: Option<i64>, kind: &str, escrow: bool, count: i64, amount: i64, fee: i64) -> Movement {
        Movement { offer_id: offer, kind: kind.into(), escrow, count, amount, fee }
    }

    #[test]
    fn months_parse_and_step() {
        let m = Month::parse("2026-12").expect("valid");
        assert_eq!(m.next().to_string(), "2027-01");
        assert_eq!(m.prev().to_string(), "2026-11");
        assert_eq!(Month::parse("2027-01").expect("valid").prev().to_string(), "2026-12");
        assert_eq!(m.label(), "December 2026");
        assert_eq!(m.end().to_string(), "2027-01-01 00:00:00");
        for bad in ["2026-13", "2026-00", "26-11", "2026-1", "2026/11", "", "2026-11-01", "１２３４-11", "1999-12"]
        {
            assert_eq!(Month::parse(bad), None, "{bad}");
        }
        let t = NaiveDate::from_ymd_opt(2026, 12, 7).expect("valid").and_hms_opt(8, 0, 0).expect("valid");
        assert!(Month::parse("2026-11").expect("valid").is_closed(t));
        assert!(!Month::of(t).is_closed(t));
    }

    #[test]
    fn a_month_adds_up() {
        // Opening 100.00 available. Deposit 50.00. Four leads at 10.00 (fee 2.00):
        // two approved, one rejected, one pending; one approved lead reversed; one
        // contested rejection from earlier upheld.
        let movements = vec![
            mv(None, "deposit", false, 1, 5000, 0),
            mv(Some(3), "lead_accepted", false, 4, -4000, 0),
            mv(Some(3), "lead_accepted", true, 4, 4000, 0),
            mv(Some(3), "lead_approved", true, 2, -2000, 400),
            mv(Some(3), "lead_rejected", true, 1, -1000, 0),
            mv(Some(3), "lead_rejected", false, 1, 1000, 0),
            mv(Some(3), "lead_reversed", false, 1, 1000, 200),
            mv(Some(3), "contest_upheld", false, 1, -1000, 200),
        ];
        let opening = Balance { available: 10000, held: 0 };
        // available: 10000 + 5000 − 4000 + 1000 + 1000 − 1000 = 12000; held: 4000 − 2000 − 1000 = 1000
        let closing = Balance { available: 12000, held: 1000 };
        let names = BTreeMap::from([(3, "Roofs".to_string())]);
        let received = vec![(3, "approved".to_string(), 2), (3, "pending".into(), 1), (3, "rejected".into(), 1)];
        let opened = vec![(3, "return".to_string(), 1)];
        let st = Statement::build(
            Month::parse("2026-11").expect("valid"),
            opening,
            closing,
            &movements,
            &names,
            &received,
            &opened,
        );
        assert_eq!(st.deposits, Figure { count: 1, amount: 5000 });
        let o = &st.offers[0];
        assert_eq!(o.offer, "Roofs");
        assert_eq!(o.leads_received(), 4);
        assert_eq!(o.approved, Figure { count: 2, amount: 2000 });
        assert_eq!(o.rejected, Figure { count: 1, amount: 1000 });
        assert_eq!(o.reversed, Figure { count: 1, amount: 1000 });
        assert_eq!(o.contests_upheld, Figure { count: 1, amount: 1000 });
        assert_eq!(o.spend(), 2000);
        assert_eq!(o.fee, 400);
        assert_eq!(o.returns_opened, 1);
        assert_eq!(st.other, 0, "opening + deposits − spend = closing");
        assert!(st.has_line("offer:3") && st.has_line("deposits") && !st.has_line("offer:4"));
        let csv = st.csv_records("USD", false);
        assert!(csv.iter().any(|r| r[1] == "offer:3" && r[4] == "approved" && r[5] == "2" && r[6] == "20.00"));
        assert!(csv.iter().all(|r| r.len() == 8));
        assert!(!csv.iter().any(|r| r[4] == "fee"), "no fee for the advertiser");
        assert!(st.csv_records("USD", true).iter().any(|r| r[1] == "offer:3" && r[4] == "fee" && r[6] == "4.00"));
        // A movement the statement has no line for shows as `other`.
        let off = Statement::build(Month::parse("2026-11").expect("valid"), opening, closing, &[], &names, &[], &[]);
        assert_eq!(off.other, 3000);
    }
}

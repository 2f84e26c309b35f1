//! The metrics every event adds to the hourly rollups (DESIGN §9): clicks (and
//! those sent to the offer's fallback, by why), leads by status and their money.
//! Pure: `store::rollups` writes and reads them.

use crate::domain::lifecycle::{LeadMoney, LeadStatus};

/// The metric columns, listed once: `with_metrics!(m)` calls `m!(clicks, …)`, so
/// the struct here and the store's queries (`store::rollups`) share one list.
#[macro_export]
macro_rules! with_metrics {
    ($m:ident) => {
        $m!(
            clicks,
            unique_clicks,
            fallback_clicks,
            off_target_clicks,
            blocked_clicks,
            leads,
            intake_rejected,
            pending,
            approved,
            rejected,
            disputed,
            reversed,
            price_minor,
            pending_price_minor,
            pending_payout_minor,
            approved_price_minor,
            approved_payout_minor,
            approved_fee_minor,
        );
    };
}

macro_rules! delta {
    ($($f:ident),* $(,)?) => {
        /// Amounts to add to a row (negative to take away); also a row's metrics.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, diesel::Queryable, serde::Serialize)]
        pub struct Delta {
            $(pub $f: i64,)*
        }

        impl std::ops::Add for Delta {
            type Output = Delta;
            fn add(self, o: Delta) -> Delta {
                Delta { $($f: self.$f + o.$f,)* }
            }
        }

        impl std::ops::Sub for Delta {
            type Output = Delta;
            fn sub(self, o: Delta) -> Delta {
                Delta { $($f: self.$f - o.$f,)* }
            }
        }

        impl std::ops::AddAssign for Delta {
            fn add_assign(&mut self, o: Delta) {
                $(self.$f += o.$f;)*
            }
        }

        /// The metric names (column names), in field order.
        pub const METRICS: &[&str] = &[$(stringify!($f),)*];
    };
}

with_metrics!(delta);

impl Delta {
    /// One click: counted, unique or not, and when it went to the fallback instead
    /// of the landing page (it has a redirect reason), why: outside the offer's
    /// targeting, from a blocked source, or another reason (a cap, a paused offer,
    /// a link not approved, …), which only `fallback_clicks` counts.
    pub fn click(redirect_reason: Option<&str>, is_unique: bool) -> Delta {
        Delta {
            clicks: 1,
            unique_clicks: i64::from(is_unique),
            fallback_clicks: i64::from(redirect_reason.is_some()),
            off_target_clicks: i64::from(redirect_reason == Some(crate::domain::targeting::REASON)),
            blocked_clicks: i64::from(redirect_reason == Some(super::source_block::REASON)),
            ..Delta::default()
        }
    }

    /// A lead entering (`sign` = 1) or leaving (`sign` = −1) a status bucket.
    pub fn status(status: LeadStatus, sign: i64, money: LeadMoney) -> Delta {
        let mut d = Delta::default();
        match status {
            LeadStatus::Pending => {
                d.pending = sign;
                d.pending_price_minor = sign * money.price;
                d.pending_payout_minor = sign * money.payout;
            }
            LeadStatus::Approved => {
                d.approved = sign;
                d.approved_price_minor = sign * money.price;
                d.approved_payout_minor = sign * money.payout;
                d.approved_fee_minor = sign * money.fee;
            }
            LeadStatus::Rejected => d.rejected = sign,
            LeadStatus::Disputed => d.disputed = sign,
            LeadStatus::Reversed => d.reversed = sign,
        }
        d
    }

    /// A status change: out of one bucket, into another.
    pub fn transition(from: LeadStatus, to: LeadStatus, money: LeadMoney) -> Delta {
        Delta::status(from, -1, money) + Delta::status(to, 1, money)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_click_counts_where_it_went_and_why() {
        let landed = Delta::click(None, true);
        assert_eq!((landed.clicks, landed.unique_clicks, landed.fallback_clicks), (1, 1, 0));
        let off = Delta::click(Some("targeting"), false);
        assert_eq!((off.clicks, off.unique_clicks, off.fallback_clicks, off.off_target_clicks), (1, 0, 1, 1));
        let blocked = Delta::click(Some(crate::domain::source_block::REASON), true);
        assert_eq!((blocked.fallback_clicks, blocked.blocked_clicks, blocked.off_target_clicks), (1, 1, 0));
        let capped = Delta::click(Some("cap_reached"), true);
        assert_eq!((capped.fallback_clicks, capped.off_target_clicks, capped.blocked_clicks), (1, 0, 0));
        assert_eq!(METRICS[..5], ["clicks", "unique_clicks", "fallback_clicks", "off_target_clicks", "blocked_clicks"]);
    }
}

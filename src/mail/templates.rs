//! Each e-mail is a subject, a text template and an HTML template under
//! `templates/email/`.

use askama::Template;

pub trait Email {
    fn subject(&self) -> String;
    fn text(&self) -> askama::Result<String>;
    fn html(&self) -> askama::Result<String>;
}

/// Declares an e-mail: its fields, its subject, and its two templates.
macro_rules! email {
    ($name:ident { $($field:ident : $ty:ty),* $(,)? }, subject = |$s:ident| $subject:expr, text = $text:literal, html = $html:literal) => {
        pub struct $name { $(pub $field: $ty),* }

        const _: () = {
            #[derive(Template)]
            #[template(path = $text)]
            struct Text<'a> { m: &'a $name }

            #[derive(Template)]
            #[template(path = $html)]
            struct Html<'a> { m: &'a $name }

            impl Email for $name {
                fn subject(&self) -> String {
                    let $s = self;
                    $subject
                }
                fn text(&self) -> askama::Result<String> {
                    Text { m: self }.render()
                }
                fn html(&self) -> askama::Result<String> {
                    Html { m: self }.render()
                }
            }
        };
    };
}

email!(
    VerifyEmail { name: String, link: String },
    subject = |_m| "Confirm your e-mail address for Qualead".to_string(),
    text = "email/verify_email.txt",
    html = "email/verify_email.html"
);

email!(
    ResetPassword { name: String, link: String },
    subject = |_m| "Reset your Qualead password".to_string(),
    text = "email/reset_password.txt",
    html = "email/reset_password.html"
);

email!(
    AccountStatusChanged { name: String, approved: bool, login_link: String },
    subject = |m| if m.approved {
        "Your Qualead account is active".to_string()
    } else {
        "Your Qualead account was suspended".to_string()
    },
    text = "email/account_status.txt",
    html = "email/account_status.html"
);

email!(
    OfferReviewed { name: String, offer_name: String, approved: bool, note: String, link: String },
    subject = |m| if m.approved {
        format!("Your offer \"{}\" is live", m.offer_name)
    } else {
        format!("Your offer \"{}\" needs changes", m.offer_name)
    },
    text = "email/offer_reviewed.txt",
    html = "email/offer_reviewed.html"
);

email!(
    OfferTermsChanged { name: String, offer_name: String, changes: Vec<String>, effective: String, link: String },
    subject = |m| format!("The terms of \"{}\" change on {}", m.offer_name, m.effective),
    text = "email/offer_terms_changed.txt",
    html = "email/offer_terms_changed.html"
);

email!(
    RevisionReviewed {
        name: String,
        offer_name: String,
        approved: bool,
        effective: String,
        note: String,
        link: String
    },
    subject = |m| if m.approved {
        format!("Your change to \"{}\" was approved", m.offer_name)
    } else {
        format!("Your change to \"{}\" was sent back", m.offer_name)
    },
    text = "email/revision_reviewed.txt",
    html = "email/revision_reviewed.html"
);

email!(
    PublisherApplied { name: String, offer_name: String, publisher: String, link: String },
    subject = |m| format!("{} applied to run \"{}\"", m.publisher, m.offer_name),
    text = "email/publisher_applied.txt",
    html = "email/publisher_applied.html"
);

email!(
    MembershipDecided { name: String, offer_name: String, approved: bool, invited: bool, note: String, link: String },
    subject = |m| if m.invited {
        format!("You are invited to run \"{}\"", m.offer_name)
    } else if m.approved {
        format!("You can run \"{}\" now", m.offer_name)
    } else {
        format!("Your application to \"{}\" was declined", m.offer_name)
    },
    text = "email/membership_decided.txt",
    html = "email/membership_decided.html"
);

email!(
    OfferPausedLowBalance { name: String, offer_name: String, balance: String, price: String, link: String },
    subject = |m| format!("\"{}\" is paused: your balance is too low", m.offer_name),
    text = "email/offer_paused.txt",
    html = "email/offer_paused.html"
);

email!(
    LeadDisputed {
        name: String,
        who: String,
        verb: String,
        lead_id: i64,
        offer_name: String,
        reason: String,
        comment: String,
        link: String,
    },
    subject = |m| format!("Lead #{} on \"{}\" is disputed", m.lead_id, m.offer_name),
    text = "email/lead_disputed.txt",
    html = "email/lead_disputed.html"
);

email!(
    DisputeDecided {
        name: String,
        lead_id: i64,
        offer_name: String,
        kind: String,
        decision: String,
        status: String,
        note: String,
        link: String,
    },
    subject = |m| format!("Dispute on lead #{} decided: {}", m.lead_id, m.decision),
    text = "email/dispute_decided.txt",
    html = "email/dispute_decided.html"
);

email!(
    PayoutPaid { name: String, payout_id: i64, amount: String, note: String, link: String },
    subject = |m| format!("Your payout of {} was paid", m.amount),
    text = "email/payout_paid.txt",
    html = "email/payout_paid.html"
);

email!(
    OfferStatusChanged { name: String, offer_name: String, change: String, link: String },
    subject = |m| match m.change.as_str() {
        "paused" => format!("\"{}\" is paused: send no traffic for now", m.offer_name),
        "resumed" => format!("\"{}\" is live again", m.offer_name),
        _ => format!("\"{}\" has ended", m.offer_name),
    },
    text = "email/offer_status_changed.txt",
    html = "email/offer_status_changed.html"
);

email!(
    CapAlert { name: String, offer_name: String, cap: String, count: i64, max: i64, reached: bool, link: String },
    subject = |m| if m.reached {
        format!("\"{}\" reached its {}", m.offer_name, m.cap)
    } else {
        format!(
            "\"{}\" is near its {}: {} of {}",
            m.offer_name,
            m.cap,
            m.count,
            crate::i18n::count_words(m.max, "lead")
        )
    },
    text = "email/cap_alert.txt",
    html = "email/cap_alert.html"
);

email!(
    LowBalance { name: String, balance: String, threshold: String, link: String },
    subject = |m| format!("Your Qualead balance is low: {}", m.balance),
    text = "email/low_balance.txt",
    html = "email/low_balance.html"
);

email!(
    TopupRequested {
        name: String,
        advertiser: String,
        topup_id: i64,
        amount: String,
        method: String,
        reference: String,
        link: String,
    },
    subject = |m| format!("Top-up request #{}: {} from {}", m.topup_id, m.amount, m.advertiser),
    text = "email/topup_requested.txt",
    html = "email/topup_requested.html"
);

email!(
    TopupDecided { name: String, topup_id: i64, amount: String, confirmed: bool, note: String, link: String },
    subject = |m| if m.confirmed {
        format!("Your top-up of {} is on your balance", m.amount)
    } else {
        format!("Your top-up request of {} was declined", m.amount)
    },
    text = "email/topup_decided.txt",
    html = "email/topup_decided.html"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_email_has_both_parts_with_the_link() {
        let m = VerifyEmail { name: "Ann <script>".into(), link: "http://x.io/verify-email?token=abc".into() };
        let text = m.text().expect("text");
        let html = m.html().expect("html");
        assert!(text.contains("http://x.io/verify-email?token=abc"));
        assert!(text.contains("Ann <script>"), "text part is not HTML-escaped");
        assert!(html.contains("href=\"http://x.io/verify-email?token&#61;abc\"") || html.contains("token=abc"));
        assert!(html.contains("Ann &#60;script&#62;") || html.contains("Ann &lt;script&gt;"), "{html}");
    }
}

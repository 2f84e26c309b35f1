//! Who may say what a conversion is worth (DESIGN "Trust"). The server postback
//! (the offer's token, its IP allow-list) is the advertiser's and always open; the
//! pixel, the hosted form and the publisher lead API are per-offer settings
//! ([`Channels`]). Only the advertiser's channels carry a sale amount, a CPS offer
//! takes none above its maximum, and a pixel may have to be signed. Pure
//! functions: intake calls [`check`] once it knows the offer and the click.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::domain::intake::{Channel, Params, Reason, same_conversion};
use crate::domain::money::format_minor;
use crate::domain::offer::Channels;

/// A refusal: its reason code and the message for the sender.
pub type Refusal = (Reason, String);

/// Why an amount on a publisher's channel is refused (`invalid_request`).
pub const NO_AMOUNT: &str =
    "amount: a publisher's lead carries no amount; only the advertiser reports what a sale is worth";

/// Whether a channel may carry a sale amount: the advertiser's postback, pixel and
/// API key may; a publisher's API lead or the hosted form never do.
pub fn carries_amount(channel: Channel) -> bool {
    matches!(channel, Channel::Postback | Channel::Pixel | Channel::Advertiser)
}

/// The channel's name in refusals and on pages.
pub fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Postback => "server postback",
        Channel::Pixel => "pixel",
        Channel::Api => "publisher lead API",
        Channel::Form => "hosted form",
        Channel::Advertiser => "advertiser's API key",
    }
}

/// Whether the offer takes conversions through `channel`.
pub fn channel_allows(ch: &Channels, channel: Channel) -> Result<(), Refusal> {
    let open = match channel {
        Channel::Postback | Channel::Advertiser => true,
        Channel::Pixel => ch.pixel,
        Channel::Api => ch.publisher_leads,
        Channel::Form => ch.hosted_form,
    };
    if open {
        Ok(())
    } else {
        let detail = format!("the offer does not take conversions through the {}", channel_name(channel));
        Err((Reason::ChannelNotAllowed, detail))
    }
}

/// A publisher's channel carries no amount (`invalid_request` naming `amount`);
/// a CPS offer takes no sale above its maximum (`amount_out_of_range`).
pub fn amount_check(ch: &Channels, channel: Channel, amount_minor: Option<i64>) -> Result<(), Refusal> {
    let Some(amount) = amount_minor else { return Ok(()) };
    if !carries_amount(channel) {
        return Err((Reason::InvalidRequest, NO_AMOUNT.into()));
    }
    match ch.max_sale_minor {
        Some(max) if amount > max => Err((
            Reason::AmountOutOfRange,
            format!(
                "the sale amount {} is above the offer's maximum sale amount {}",
                format_minor(amount),
                format_minor(max)
            ),
        )),
        _ => Ok(()),
    }
}

/// What a signed pixel's `sig` is computed over: `{click_id}:{txid}:{amount}`,
/// where `txid` is as sent (empty when there is none) and `amount` is the canonical
/// decimal with two places (`49.9` is signed as `49.90`; empty when there is none).
pub fn signature_message(click_id: &str, txid: Option<&str>, amount_minor: Option<i64>) -> String {
    let amount = amount_minor.map(format_minor).unwrap_or_default();
    format!("{click_id}:{}:{amount}", txid.unwrap_or(""))
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str, message: &str) -> HmacSha256 {
    // HMAC takes a key of any length.
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(message.as_bytes());
    mac
}

/// The signature an advertiser's server puts in `sig`: lower-case hex of
/// HMAC-SHA256 over [`signature_message`], keyed with the offer's postback token.
pub fn sign(secret: &str, message: &str) -> String {
    hex::encode(mac(secret, message).finalize().into_bytes())
}

/// Whether `sig` (hex, either case) signs `message`; compared in constant time.
pub fn signature_matches(secret: &str, message: &str, sig: &str) -> bool {
    match hex::decode(sig.trim()) {
        Ok(bytes) => mac(secret, message).verify_slice(&bytes).is_ok(),
        Err(_) => false,
    }
}

/// Everything intake asks of a conversion's channel once it knows the offer and
/// the click: the channel is open, a signed pixel's signature matches (the key is
/// the offer's postback token, `secret`), and the amount is one the channel may
/// carry and the offer takes.
pub fn check(ch: &Channels, channel: Channel, p: &Params, click_id: Option<&str>, secret: &str) -> Result<(), Refusal> {
    channel_allows(ch, channel)?;
    if channel == Channel::Pixel && ch.pixel_signature {
        let message = signature_message(click_id.unwrap_or(""), p.txid.as_deref(), p.amount_minor);
        if !p.sig.as_deref().is_some_and(|sig| signature_matches(secret, &message, sig)) {
            let what = if p.sig.is_none() { "missing" } else { "wrong" };
            return Err((Reason::BadSignature, format!("the offer's pixel must be signed: sig is {what}")));
        }
    }
    amount_check(ch, channel, p.amount_minor)
}

/// Whether a conversion of a click and event repeats an earlier lead of the same
/// click and event. A pixel records at most one conversion per click and event
/// (a browser can make up transaction ids); other channels follow
/// [`same_conversion`] (two sales from one click carry two transaction ids).
pub fn repeats(channel: Channel, earlier_txid: Option<&str>, txid: Option<&str>) -> bool {
    channel == Channel::Pixel || same_conversion(earlier_txid, txid)
}

#[cfg(test)]
// Money is written in minor units grouped as major_minor (500_00 is 500.00).
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;
    use crate::domain::offer::PayoutModel;

    fn params(txid: Option<&str>, amount: Option<i64>, sig: Option<&str>) -> Params {
        Params {
            txid: txid.map(str::to_string),
            amount_minor: amount,
            sig: sig.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_follow_the_payout_model() {
        let cpl = Channels::defaults(PayoutModel::Cpl);
        assert!(cpl.pixel && cpl.hosted_form && !cpl.publisher_leads && cpl.max_sale_minor.is_none());
        let cps = Channels::defaults(PayoutModel::Cps);
        assert!(!cps.pixel && !cps.hosted_form && !cps.publisher_leads);
        assert_eq!(cps.max_sale_minor, Some(crate::domain::offer::DEFAULT_MAX_SALE_MINOR));
    }

    #[test]
    fn only_open_channels_pass() {
        let cpl = Channels::defaults(PayoutModel::Cpl);
        assert!(channel_allows(&cpl, Channel::Postback).is_ok());
        assert!(channel_allows(&cpl, Channel::Pixel).is_ok());
        assert!(channel_allows(&cpl, Channel::Form).is_ok());
        let (reason, detail) = channel_allows(&cpl, Channel::Api).expect_err("publisher leads are off");
        assert_eq!(reason, Reason::ChannelNotAllowed);
        assert!(detail.contains("publisher lead API"), "{detail}");
        let cps = Channels::defaults(PayoutModel::Cps);
        assert!(channel_allows(&cps, Channel::Postback).is_ok());
        assert!(channel_allows(&cps, Channel::Pixel).is_err());
        assert!(channel_allows(&Channels { pixel: true, ..cps }, Channel::Pixel).is_ok());
    }

    #[test]
    fn publishers_carry_no_amount_and_cps_has_a_ceiling() {
        let cpl = Channels { publisher_leads: true, ..Channels::defaults(PayoutModel::Cpl) };
        for channel in [Channel::Api, Channel::Form] {
            let (reason, detail) = amount_check(&cpl, channel, Some(1)).expect_err("no amount");
            assert_eq!(reason, Reason::InvalidRequest);
            assert!(detail.starts_with("amount"), "{detail}");
            assert!(amount_check(&cpl, channel, None).is_ok());
        }
        assert!(amount_check(&cpl, Channel::Postback, Some(i64::MAX)).is_ok(), "CPL prices are fixed");
        let cps = Channels { max_sale_minor: Some(500_00), ..Channels::defaults(PayoutModel::Cps) };
        assert!(amount_check(&cps, Channel::Postback, Some(500_00)).is_ok());
        assert!(amount_check(&cps, Channel::Advertiser, Some(500_00)).is_ok(), "the advertiser's own key");
        assert!(channel_allows(&cps, Channel::Advertiser).is_ok());
        let (reason, detail) = amount_check(&cps, Channel::Postback, Some(500_01)).expect_err("above");
        assert_eq!(reason, Reason::AmountOutOfRange);
        assert!(detail.contains("500.01") && detail.contains("500.00"), "{detail}");
        assert_eq!(amount_check(&cps, Channel::Pixel, Some(500_01)).map_err(|e| e.0), Err(Reason::AmountOutOfRange));
    }

    #[test]
    fn the_signed_pixel() {
        // RFC 4231 test case 2: key "Jefe", "what do ya want for nothing?".
        assert_eq!(
            sign("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(signature_message("CLK", Some("T-1"), Some(4990)), "CLK:T-1:49.90");
        assert_eq!(signature_message("CLK", None, None), "CLK::");
        let ch = Channels { pixel: true, pixel_signature: true, ..Channels::defaults(PayoutModel::Cps) };
        let good = sign("secret", "CLK:T-1:49.90");
        let ok = |p: &Params| check(&ch, Channel::Pixel, p, Some("CLK"), "secret");
        assert!(ok(&params(Some("T-1"), Some(4990), Some(&good))).is_ok());
        assert!(ok(&params(Some("T-1"), Some(4990), Some(&good.to_uppercase()))).is_ok());
        for bad in [
            params(Some("T-1"), Some(4990), None),
            params(Some("T-1"), Some(4991), Some(&good)),
            params(Some("T-2"), Some(4990), Some(&good)),
            params(Some("T-1"), Some(4990), Some("zz")),
            params(Some("T-1"), Some(4990), Some(&good[..62])),
        ] {
            assert_eq!(ok(&bad).map_err(|e| e.0), Err(Reason::BadSignature), "{bad:?}");
        }
        // Another key does not sign it; the postback needs no signature.
        assert!(
            check(&ch, Channel::Pixel, &params(Some("T-1"), Some(4990), Some(&good)), Some("CLK"), "other").is_err()
        );
        assert!(check(&ch, Channel::Postback, &params(Some("T-1"), Some(4990), None), Some("CLK"), "secret").is_ok());
    }

    #[test]
    fn a_pixel_converts_a_click_once() {
        assert!(repeats(Channel::Pixel, Some("A"), Some("B")));
        assert!(repeats(Channel::Pixel, None, Some("B")));
        assert!(!repeats(Channel::Postback, Some("A"), Some("B")));
        assert!(repeats(Channel::Postback, Some("A"), Some("A")));
    }
}

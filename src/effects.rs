//! What an operation changed that others must hear about once its transaction has
//! committed. Operations return an [`Effects`]; the caller applies it in one place
//! ([`Effects::apply`], or [`crate::state::AppState::apply`] for handlers), so no
//! handler clears the link cache or wakes a worker by hand.

use crate::mail::OutboxSignal;
use crate::tracking::link_cache::LinkCache;
use crate::tracking::publisher_postbacks::PostbackSignal;

/// After-commit signals. Combine with `|`; the empty value changes nothing.
#[must_use = "effects must be applied after the transaction commits"]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Effects {
    /// An offer's status, terms or a publisher's access changed: clicks must read
    /// the offer afresh (the link cache is cleared).
    pub links: bool,
    /// E-mail was queued in the outbox: wake the mailer.
    pub mail: bool,
    /// A publisher postback or lead webhook delivery was queued: wake its worker.
    pub postbacks: bool,
}

impl Effects {
    pub const NONE: Effects = Effects { links: false, mail: false, postbacks: false };
    pub const LINKS: Effects = Effects { links: true, mail: false, postbacks: false };
    pub const MAIL: Effects = Effects { links: false, mail: true, postbacks: false };
    pub const POSTBACKS: Effects = Effects { links: false, mail: false, postbacks: true };

    /// `self` if `cond`, else nothing.
    pub fn when(self, cond: bool) -> Effects {
        if cond { self } else { Effects::NONE }
    }

    /// The one place where effects are applied. Call it after the commit.
    pub fn apply(self, links: &LinkCache, outbox: &OutboxSignal, postbacks: &PostbackSignal) {
        if self.links {
            links.clear();
        }
        if self.mail {
            outbox.wake();
        }
        if self.postbacks {
            postbacks.wake();
        }
    }
}

impl std::ops::BitOr for Effects {
    type Output = Effects;
    fn bitor(self, o: Effects) -> Effects {
        Effects { links: self.links || o.links, mail: self.mail || o.mail, postbacks: self.postbacks || o.postbacks }
    }
}

impl std::ops::BitOrAssign for Effects {
    fn bitor_assign(&mut self, o: Effects) {
        *self = *self | o;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effects_combine_and_filter() {
        assert_eq!(Effects::LINKS | Effects::MAIL, Effects { links: true, mail: true, postbacks: false });
        assert_eq!(Effects::MAIL.when(false), Effects::NONE);
        let mut e = Effects::NONE;
        e |= Effects::POSTBACKS;
        assert!(e.postbacks && !e.links && !e.mail);
    }
}

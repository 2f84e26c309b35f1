# Qualead's words, English (the first language; another language is a copy of
# this file under locales/<lang>/ with every message translated).
#
# Each code a person can see has a message `<kind>-<code>`: its value is the
# label, its `.explain` attribute one line saying what it means. The kinds are
# listed in src/i18n.rs (`Kind`); a unit test fails when a code lacks either.
#
# Statuses and roles are lower case: they read inside sentences ("the lead is now
# approved") and in badges. Reasons, rules and models are capitalised labels,
# shown beside their code ("Wrong country geo_mismatch").

## Intake reasons: why a conversion was refused (DESIGN §5)

reason-bad_token = Unknown postback token
    .explain = The postback token does not belong to any offer.
reason-ip_not_allowed = Sender not allowed
    .explain = The sender's IP address is not on the offer's postback allow-list.
reason-unknown_click = Unknown click
    .explain = No click has this click id.
reason-click_offer_mismatch = Click of another offer
    .explain = The click belongs to another offer or publisher.
reason-click_expired = Click too old
    .explain = The click is older than the offer's conversion window.
reason-offer_inactive = Offer not active
    .explain = The offer is not active.
reason-cap_reached = Cap reached
    .explain = A cap or the daily budget of the offer is full.
reason-budget_exhausted = Out of budget
    .explain = The advertiser's balance cannot pay for this lead.
reason-missing_consent = No consent
    .explain = The lead was sent without the person's consent.
reason-invalid_request = Malformed request
    .explain = The request is malformed.
reason-missing_field = Missing field
    .explain = The conversion lacks a field the offer requires.
reason-channel_not_allowed = Channel not allowed
    .explain = The offer does not take conversions through this channel.
reason-bad_signature = Bad signature
    .explain = The pixel's signature (sig) is missing or does not match.
reason-amount_out_of_range = Sale amount too high
    .explain = The sale amount is above the offer's maximum sale amount.
reason-not_targeted = Outside targeting
    .explain = The click is outside the offer's targeting (country, device or operating system).
reason-source_blocked = Blocked source
    .explain = The click came from a traffic source (a sub-id or source value) the offer or the network blocks.

## Redirect reasons: why a click went to the fallback page, not the landing page

redirect-link_not_approved = Link not approved
    .explain = The publisher is not (or no longer) approved on this offer.
redirect-publisher_suspended = Publisher suspended
    .explain = The publisher's account is suspended.
redirect-advertiser_suspended = Advertiser suspended
    .explain = The advertiser's account is suspended.
redirect-cap_reached = Cap reached
    .explain = A cap of the offer is full until its period ends.
redirect-offer_paused = Offer paused
    .explain = The advertiser paused the offer.
redirect-offer_inactive = Offer not live
    .explain = The offer is not live (a draft, waiting for review, or ended).
redirect-targeting = Outside targeting
    .explain = The visitor is outside the offer's targeting (country, device or operating system).
redirect-source_blocked = Blocked source
    .explain = The click came from a traffic source the offer or the network blocks.

## Scrub rules (DESIGN §7) and the soft signals of the quality score

rule-missing_field = Missing field
    .explain = A field the offer requires is absent or blank.
rule-invalid_email = Invalid e-mail
    .explain = The e-mail is not a valid address with a dotted domain.
rule-disposable_email = Disposable e-mail
    .explain = The e-mail's domain is a throwaway (disposable) mail service.
rule-invalid_phone = Invalid phone
    .explain = The phone number is not valid for the lead's (or the offer's) country.
rule-duplicate_contact = Duplicate contact
    .explain = An earlier lead with the same e-mail or phone exists within the offer's window.
rule-geo_mismatch = Wrong country
    .explain = The click came from a country the offer does not allow.
rule-too_fast = Too fast
    .explain = The conversion came sooner after the click than a person could fill the form.
rule-slow_conversion = Too slow
    .explain = More days passed between click and conversion than the offer allows.
rule-ip_velocity = Too many leads from one address
    .explain = More leads on this offer came from the same IP address within 24 hours than the offer allows.
rule-duplicate_click = Repeated clicks
    .explain = The same address and browser clicked the link many times just before this lead (click spamming).
rule-bot_traffic = Bot traffic
    .explain = The click's browser is empty or a known bot or automation tool.
rule-datacenter_ip = Datacenter address
    .explain = The visitor's address belongs to a hosting or cloud provider, not a home or mobile network.
rule-relay = Privacy relay
    .explain = The visitor's address is a privacy relay's exit (such as iCloud Private Relay).
rule-gibberish_name = Implausible name
    .explain = The name looks made up: no letters, a placeholder or a keyboard mash.
rule-low_score = Low quality score
    .explain = The lead's quality score is below the offer's minimum.
rule-no_phone = No phone
    .explain = The lead has no usable phone number (a small penalty on the quality score).
rule-no_click = No click
    .explain = The lead came without a click (a small penalty on the quality score).
rule-repeat_clicks = Repeated clicks (flagged)
    .explain = The visitor clicked the link several times before this lead; flagged, not rejected.

## Lead statuses (DESIGN §6)

lead-status-pending = pending
    .explain = Held until the hold period ends; its price is reserved from the advertiser's balance.
lead-status-approved = approved
    .explain = Qualified: the publisher is paid its payout.
lead-status-rejected = rejected
    .explain = Did not qualify: nothing is paid and the price goes back to the advertiser.
lead-status-disputed = disputed
    .explain = Returned by the advertiser or contested by the publisher, until an admin rules.
lead-status-reversed = reversed
    .explain = An approved lead whose return was upheld: the payment was taken back.

## Verdict and return reasons (the advertiser's, DESIGN §6)

verdict-reason-bad_contact = Bad contact details
    .explain = The e-mail or phone does not reach the person.
verdict-reason-duplicate = Duplicate
    .explain = The advertiser already had this person.
verdict-reason-out_of_criteria = Out of criteria
    .explain = The person does not fit the offer's criteria.
verdict-reason-consumer_denies = Person denies
    .explain = The person says they did not ask to be contacted.
verdict-reason-fraud_suspected = Suspected fraud
    .explain = The lead looks fraudulent.
verdict-reason-other = Other
    .explain = Another reason, given in the comment.

## Why a lead moved, in its history (besides the rules and the verdict reasons)

history-settlement = Passed every rule
    .explain = Settlement checked the lead against the offer's scrub rules when the hold ended, and it passed.
history-default_approved = Approved by default
    .explain = No verdict came from the advertiser before the hold ended, and the offer's default is to approve.
history-default_rejected = Rejected by default
    .explain = No verdict came from the advertiser before the hold ended, and the offer's default is to reject.
history-approved_early = Approved early
    .explain = The advertiser approved the lead before its hold ended.
history-contested = Contested
    .explain = The publisher contested the rejection; an admin rules.
history-return_upheld = Return upheld
    .explain = An admin agreed with the advertiser's return: the payment was taken back.
history-return_denied = Return denied
    .explain = An admin denied the advertiser's return: the lead stays approved.
history-contest_upheld = Contest upheld
    .explain = An admin agreed with the publisher: the lead is approved and paid.
history-contest_denied = Contest denied
    .explain = An admin denied the publisher's contest: the lead stays rejected.

## Offer statuses (DESIGN §4)

offer-status-draft = draft
    .explain = Not yet submitted; only the advertiser sees it.
offer-status-pending_review = pending review
    .explain = Submitted; an admin reviews it before it goes live.
offer-status-active = active
    .explain = Live: publishers can run it and it takes leads.
offer-status-paused = paused
    .explain = Stopped for now: clicks go to the fallback page and conversions are refused.
offer-status-archived = archived
    .explain = Ended for good.

## An offer's live state as a publisher sees it

live-live = live
    .explain = Clicks reach the landing page.
live-capped = capped
    .explain = A cap is full, so clicks go to the fallback page until its period ends.
live-paused = paused
    .explain = Paused by the advertiser: clicks go to the fallback page and conversions are refused.
live-archived = ended
    .explain = The advertiser archived this offer.
live-pending = not live
    .explain = The offer is not live yet.

## A publisher's membership of an offer

membership-pending = waiting for approval
    .explain = The publisher asked to run the offer; the advertiser has not answered yet.
membership-approved = approved
    .explain = The publisher may run the offer.
membership-rejected = declined
    .explain = The advertiser declined the publisher on this offer.

## Payout models

model-cpl = Per lead
    .explain = Pays a fixed price for each qualified lead (CPL).
model-cpa = Per action
    .explain = Pays a fixed price for each qualified action, such as a sign-up or a purchase (CPA).
model-cps = Share of sale
    .explain = Pays a percentage of each sale's amount (CPS).

## Publisher payouts

payout-requested = requested
    .explain = Asked for by the publisher; an admin pays it.
payout-paid = paid
    .explain = An admin recorded it as paid.
payout-cancelled = cancelled
    .explain = Cancelled: the amount went back to the publisher's balance.

## Disputes

dispute-open = open
    .explain = Waiting for an admin to rule.
dispute-upheld = upheld
    .explain = An admin agreed with whoever opened the dispute.
dispute-denied = denied
    .explain = An admin disagreed with whoever opened the dispute.

dispute-kind-return = return
    .explain = The advertiser returned an approved lead.
dispute-kind-contest = contest
    .explain = The publisher contested a rejected lead.

## Top-up requests

topup-pending = pending
    .explain = Waiting for an admin to confirm the deposit.
topup-confirmed = confirmed
    .explain = An admin confirmed the deposit; it is on the balance.
topup-declined = declined
    .explain = An admin declined the request; nothing was added.

## Monthly reconciliation

reconciliation-confirmed = Confirmed
    .explain = The advertiser confirmed the month's statement.
reconciliation-disputed = Disputed: waiting for an admin
    .explain = The advertiser disputed the month's statement; an admin looks at it.
reconciliation-resolved = Dispute resolved
    .explain = An admin resolved the dispute about the month's statement.
reconciliation-awaiting = Waiting for confirmation
    .explain = The month is over; the advertiser may confirm or dispute its statement.
reconciliation-in_progress = In progress
    .explain = The month is not over yet.
reconciliation-none = No activity
    .explain = Nothing happened in this month.

## Reviewed changes of a live offer (DESIGN §13)

revision-pending = waiting for review
    .explain = An admin reviews the change before it applies.
revision-approved = approved
    .explain = The change applies.
revision-rejected = rejected
    .explain = The change was not accepted; the offer keeps its terms.
revision-superseded = superseded
    .explain = A newer change replaced this one.

## Accounts

role-advertiser = advertiser
    .explain = Publishes offers and pays for qualified leads.
role-publisher = publisher
    .explain = Sends traffic to offers and is paid for qualified leads.
role-admin = admin
    .explain = Runs the network: reviews offers, rules disputes and records money.

account-status-pending_approval = waiting for approval
    .explain = An admin approves the account before it can be used.
account-status-active = active
    .explain = The account can be used.
account-status-suspended = suspended
    .explain = An admin suspended the account: it cannot sign in and its traffic is not paid.

## Webhook and postback deliveries

delivery-pending = pending
    .explain = Not delivered yet; it is tried again.
delivery-delivered = delivered
    .explain = The receiver answered with a 2xx status.
delivery-failed = failed
    .explain = Every try failed; it is not tried again.

## Counts, with the plural the language needs

count-lead = { $n ->
    [one] { $n } lead
   *[other] { $n } leads
}
count-click = { $n ->
    [one] { $n } click
   *[other] { $n } clicks
}
count-conversion = { $n ->
    [one] { $n } conversion
   *[other] { $n } conversions
}
count-offer = { $n ->
    [one] { $n } offer
   *[other] { $n } offers
}
count-publisher = { $n ->
    [one] { $n } publisher
   *[other] { $n } publishers
}
count-dispute = { $n ->
    [one] { $n } dispute
   *[other] { $n } disputes
}
count-payout = { $n ->
    [one] { $n } payout
   *[other] { $n } payouts
}
count-row = { $n ->
    [one] { $n } row
   *[other] { $n } rows
}
count-line = { $n ->
    [one] { $n } line
   *[other] { $n } lines
}
count-time = { $n ->
    [one] once
   *[other] { $n } times
}
count-second = { $n ->
    [one] { $n } second
   *[other] { $n } seconds
}
count-minute = { $n ->
    [one] { $n } minute
   *[other] { $n } minutes
}
count-hour = { $n ->
    [one] { $n } hour
   *[other] { $n } hours
}
count-day = { $n ->
    [one] { $n } day
   *[other] { $n } days
}

## Sentences with a number

network-blocks = { $n ->
    [one] { $n } network-wide block set by Qualead also applies.
   *[other] { $n } network-wide blocks set by Qualead also apply.
}

## Durations

# Two units, as in "3 hours 20 minutes".
duration-pair = { $big } { $small }
duration-under-minute = under a minute
# "within a minute"
duration-a-minute = a minute

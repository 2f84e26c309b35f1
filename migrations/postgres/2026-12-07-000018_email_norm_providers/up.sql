-- duplicate_contact compares e-mails normalised by their provider's rules (DESIGN §7,
-- src/domain/scrub/email.rs PROVIDERS, normalise_email): the stored leads.email_norm
-- of earlier leads is brought to the same form, so that a new lead is compared with
-- them as with new ones. Mirrors the Rust table exactly (a unit test in src/db runs
-- the SQLite form of this against normalise_email); keep the two together.
-- email_norm is already trimmed and lower-cased; only addresses at a provider's domain
-- (one '@', something before it) change.
CREATE TEMPORARY TABLE email_norm_fix AS
SELECT id,
       substr(email_norm, 1, strpos(email_norm, '@') - 1) AS login,
       substr(email_norm, strpos(email_norm, '@') + 1) AS domain
FROM leads
WHERE email_norm IS NOT NULL
  AND strpos(email_norm, '@') > 1
  AND substr(email_norm, strpos(email_norm, '@') + 1) IN (
      'gmail.com', 'googlemail.com', 'yandex.ru', 'yandex.com', 'yandex.by',
      'yandex.kz', 'ya.ru', 'icloud.com', 'me.com', 'mac.com', 'outlook.com',
      'hotmail.com', 'live.com', 'msn.com', 'outlook.fr', 'outlook.de',
      'outlook.es', 'outlook.it', 'hotmail.co.uk', 'hotmail.fr', 'hotmail.de',
      'hotmail.es', 'hotmail.it', 'live.co.uk', 'live.fr', 'live.de', 'live.it',
      'proton.me', 'protonmail.com', 'pm.me', 'protonmail.ch', 'fastmail.com',
      'fastmail.fm'
  );

-- Every provider here: a +tag does not count (unless nothing would be left).
UPDATE email_norm_fix SET login = substr(login, 1, strpos(login, '+') - 1) WHERE strpos(login, '+') > 1;
-- Gmail: dots do not count (unless nothing would be left).
UPDATE email_norm_fix SET login = replace(login, '.', '')
WHERE domain IN ('gmail.com', 'googlemail.com') AND replace(login, '.', '') <> '';
-- Yandex: a hyphen is a dot.
UPDATE email_norm_fix SET login = replace(login, '-', '.') WHERE domain IN ('yandex.ru', 'yandex.com', 'yandex.by', 'yandex.kz', 'ya.ru');
-- Domains that are one mailbox.
UPDATE email_norm_fix SET domain = 'gmail.com' WHERE domain IN ('gmail.com', 'googlemail.com');
UPDATE email_norm_fix SET domain = 'yandex.ru' WHERE domain IN ('yandex.ru', 'yandex.com', 'yandex.by', 'yandex.kz', 'ya.ru');
UPDATE email_norm_fix SET domain = 'icloud.com' WHERE domain IN ('icloud.com', 'me.com', 'mac.com');

-- A join, not a correlated subquery: PostgreSQL would scan the (unindexed) fix table
-- once per lead.
UPDATE leads SET email_norm = f.login || '@' || f.domain
FROM email_norm_fix f
WHERE f.id = leads.id AND leads.email_norm IS DISTINCT FROM f.login || '@' || f.domain;
DROP TABLE email_norm_fix;

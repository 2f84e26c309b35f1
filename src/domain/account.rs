//! Roles, account states and the rules for what a person may type at sign-up.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Advertiser,
    Publisher,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Advertiser, Role::Publisher, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Advertiser => "advertiser",
            Role::Publisher => "publisher",
            Role::Admin => "admin",
        }
    }

    /// The home page of each role.
    pub fn home(self) -> &'static str {
        match self {
            Role::Advertiser => "/advertiser",
            Role::Publisher => "/publisher",
            Role::Admin => "/admin",
        }
    }

    /// Roles a visitor may pick on the sign-up form.
    pub fn can_self_register(self) -> bool {
        matches!(self, Role::Advertiser | Role::Publisher)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "advertiser" => Ok(Role::Advertiser),
            "publisher" => Ok(Role::Publisher),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role {other:?}: use advertiser, publisher or admin")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    PendingApproval,
    Active,
    Suspended,
}

impl AccountStatus {
    pub const ALL: [AccountStatus; 3] =
        [AccountStatus::PendingApproval, AccountStatus::Active, AccountStatus::Suspended];

    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::PendingApproval => "pending_approval",
            AccountStatus::Active => "active",
            AccountStatus::Suspended => "suspended",
        }
    }
}

impl FromStr for AccountStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending_approval" => Ok(AccountStatus::PendingApproval),
            "active" => Ok(AccountStatus::Active),
            "suspended" => Ok(AccountStatus::Suspended),
            other => Err(format!("unknown account status {other:?}")),
        }
    }
}

/// Trim and lower-case an e-mail address, the form in which it is stored and compared.
pub fn normalize_email(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// A syntactically valid address with a dotted domain: `local@host.tld`.
pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    local_ok && domain_ok
}

pub const MIN_PASSWORD_LEN: usize = 10;

/// Why a password is refused, or `None` when it is acceptable.
pub fn password_problem(password: &str, email: &str) -> Option<&'static str> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        return Some("Use at least 10 characters.");
    }
    if len > 256 {
        return Some("Use at most 256 characters.");
    }
    if !email.is_empty() && password.to_lowercase().contains(&email.to_lowercase()) {
        return Some("Do not use your e-mail address in the password.");
    }
    let distinct = password.chars().collect::<std::collections::HashSet<_>>().len();
    if distinct < 4 {
        return Some("Use a less repetitive password.");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in ["a@x.io", "John.Doe+tag@mail.example.co.uk", "o'neil@ex-ample.com"] {
            assert!(is_valid_email(&normalize_email(ok)), "{ok}");
        }
        for bad in
            ["", "a", "a@", "@x.io", "a@x", "a@.io", "a@x..io", "a b@x.io", "a@x.i", "a@-x.io", ".a@x.io", "a@x.123"]
        {
            assert!(!is_valid_email(bad), "{bad}");
        }
        assert_eq!(normalize_email("  Foo@Bar.COM "), "foo@bar.com");
    }

    #[test]
    fn passwords() {
        assert!(password_problem("S3cure-pass!", "a@x.io").is_none());
        assert!(password_problem("short", "").is_some());
        assert!(password_problem("aaaaaaaaaaaa", "").is_some());
        assert!(password_problem("xx-a@x.io-xx", "a@x.io").is_some());
    }

    #[test]
    fn roles_round_trip() {
        for r in [Role::Advertiser, Role::Publisher, Role::Admin] {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("root".parse::<Role>().is_err());
        assert!(!Role::Admin.can_self_register());
    }
}

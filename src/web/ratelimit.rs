//! Rate limits for log-in and the other forms strangers can send (sign-up, password
//! reset), per client IP and per account. Kept in each process: a limit that is
//! approximate across nodes is fine here, exactness is not needed.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::AppError;

pub struct RateLimits {
    login_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    login_per_account: DefaultKeyedRateLimiter<String>,
    forms_per_ip: DefaultKeyedRateLimiter<IpAddr>,
}

fn quota(burst: u32, every: Duration) -> Quota {
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(every).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN)).allow_burst(burst)
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            // 30 tries at once from one address, then one every 2 s.
            login_per_ip: RateLimiter::keyed(quota(30, Duration::from_secs(2))),
            // 10 tries at once for one account, then one every 30 s.
            login_per_account: RateLimiter::keyed(quota(10, Duration::from_secs(30))),
            forms_per_ip: RateLimiter::keyed(quota(20, Duration::from_secs(10))),
        }
    }
}

impl RateLimits {
    pub fn check_login(&self, ip: IpAddr, account: &str) -> Result<(), AppError> {
        let ip_ok = self.login_per_ip.check_key(&ip).is_ok();
        let account_ok = self.login_per_account.check_key(&account.to_string()).is_ok();
        if ip_ok && account_ok { Ok(()) } else { Err(AppError::RateLimited) }
    }

    pub fn check_form(&self, ip: IpAddr) -> Result<(), AppError> {
        self.forms_per_ip.check_key(&ip).map_err(|_| AppError::RateLimited)
    }

    /// Forget keys that are back to full allowance (called periodically).
    pub fn prune(&self) {
        self.login_per_ip.retain_recent();
        self.login_per_account.retain_recent();
        self.forms_per_ip.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_limited_after_its_burst() {
        let limits = RateLimits::default();
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let allowed = (0..20).filter(|_| limits.check_login(ip, "a@x.io").is_ok()).count();
        assert_eq!(allowed, 10);
        // Another account from the same address still gets through.
        assert!(limits.check_login(ip, "b@x.io").is_ok());
    }
}

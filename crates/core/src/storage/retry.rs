//! Retries with exponential backoff and full jitter on transient failures (timeouts, connection
//! resets, 5xx, throttling); no retry on permanent ones (credentials, permissions, not found).
//! The SDKs' own retries are switched off so this is the one place that decides.

use std::future::Future;
use std::time::Duration;

use rand::Rng;

use crate::{Error, Result};

/// How often and how patiently to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Each attempt is abandoned (and counts as a transient failure) after this long.
    pub attempt_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
            attempt_timeout: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// No retry at all (one attempt).
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The pause before retry number `retry` (1-based): a random time up to
    /// `min(max_delay, base_delay * 2^(retry-1))` ("full jitter").
    pub fn delay(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << retry.saturating_sub(1).min(20));
        let cap = exp.min(self.max_delay);
        let millis = cap.as_millis() as u64;
        if millis == 0 {
            return Duration::ZERO;
        }
        Duration::from_millis(rand::thread_rng().gen_range(millis / 2..=millis))
    }
}

/// Whether trying again may succeed.
pub fn is_transient(e: &Error) -> bool {
    match e {
        Error::StoreUnreachable { .. } => true,
        Error::Store { transient, .. } => *transient,
        Error::Io { source, .. } => matches!(
            source.kind(),
            std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::TimedOut
                | std::io::ErrorKind::Interrupted
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::UnexpectedEof
        ),
        _ => false,
    }
}

/// Runs `attempt` until it succeeds, fails permanently, or the attempts run out.
/// `what` names the operation in logs (never a secret).
pub async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    store: &str,
    what: &str,
    mut attempt: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut tried = 0u32;
    loop {
        tried += 1;
        let outcome = match tokio::time::timeout(policy.attempt_timeout, attempt()).await {
            Ok(r) => r,
            Err(_) => Err(Error::StoreUnreachable {
                store: store.to_string(),
                detail: format!("{what} timed out after {:?}", policy.attempt_timeout),
            }),
        };
        match outcome {
            Ok(v) => return Ok(v),
            Err(e) if tried < policy.max_attempts && is_transient(&e) => {
                let pause = policy.delay(tried);
                tracing::warn!(store, what, attempt = tried, code = e.code(), error = %e, ?pause, "transient storage failure; retrying");
                tokio::time::sleep(pause).await;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn quick() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            attempt_timeout: Duration::from_millis(200),
        }
    }

    #[tokio::test]
    async fn transient_failures_are_retried_until_success() {
        let calls = AtomicU32::new(0);
        let v = run(&quick(), "test", "op", || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                Err(Error::Store {
                    store: "t".into(),
                    detail: "503".into(),
                    transient: true,
                })
            } else {
                Ok(7)
            }
        })
        .await
        .unwrap();
        assert_eq!(v, 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn permanent_failures_are_not_retried() {
        let calls = AtomicU32::new(0);
        let e = run(&quick(), "test", "op", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(Error::CredentialsInvalid { store: "t".into() })
        })
        .await
        .unwrap_err();
        assert_eq!(e.code(), "credentials_invalid");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn stalls_time_out_and_give_up_after_max_attempts() {
        let calls = AtomicU32::new(0);
        let e = run(&quick(), "test", "op", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(())
        })
        .await
        .unwrap_err();
        assert_eq!(e.code(), "store_unreachable");
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn delays_grow_and_are_capped() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        for _ in 0..50 {
            let d1 = p.delay(1);
            assert!(d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100));
            let d3 = p.delay(3);
            assert!(d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400));
            assert!(p.delay(30) <= Duration::from_millis(1000));
        }
    }
}

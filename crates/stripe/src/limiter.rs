//! A rate limiter that spaces calls evenly (the generic cell rate algorithm, waiting instead of
//! refusing): at most `per_second` calls per second with a burst of one second's worth, and a
//! caller whose turn is further away than `wait_max` is told [`Busy`] at once rather than queued.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

#[derive(Clone, Debug)]
pub struct Limiter {
    interval: Duration,
    burst: Duration,
    wait_max: Duration,
    /// The theoretical arrival time of the next call: when it would go if calls were perfectly spaced.
    next: Arc<Mutex<Instant>>,
}

impl Limiter {
    pub fn new(per_second: u32, wait_max: Duration) -> Limiter {
        let interval = Duration::from_secs(1) / per_second.max(1);
        Limiter {
            interval,
            burst: interval * per_second.max(1).saturating_sub(1),
            wait_max,
            next: Arc::new(Mutex::new(Instant::now())),
        }
    }

    /// Waits for this caller's turn, or returns [`Busy`] when that is more than `wait_max` away.
    pub async fn acquire(&self) -> Result<(), Busy> {
        let start = {
            let mut next = self.next.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let now = Instant::now();
            let tat = (*next).max(now);
            // allowed once the arrival time minus the burst allowance has come
            let start = tat.checked_sub(self.burst).map_or(now, |t| t.max(now));
            if start.duration_since(now) > self.wait_max {
                return Err(Busy);
            }
            *next = tat + self.interval;
            start
        };
        tokio::time::sleep_until(start).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spaces_calls_after_the_burst_and_refuses_beyond_the_wait() {
        let limiter = Limiter::new(10, Duration::from_secs(1));
        let begin = Instant::now();
        // a burst of 10 goes at once
        for _ in 0..10 {
            limiter.acquire().await.unwrap();
        }
        assert_eq!(Instant::now(), begin);
        // then one per 100 ms
        for _ in 0..10 {
            limiter.acquire().await.unwrap();
        }
        assert_eq!(Instant::now().duration_since(begin), Duration::from_millis(1000));
        // of 12 more at once, the 11th and 12th would wait more than 1 s: refused, nothing reserved
        let mut granted = 0;
        let mut refused = 0;
        let queued: Vec<_> = (0..12).map(|_| limiter.clone()).collect();
        let handles: Vec<_> =
            queued.into_iter().map(|l| tokio::spawn(async move { l.acquire().await })).collect();
        for h in handles {
            match h.await.unwrap() {
                Ok(()) => granted += 1,
                Err(Busy) => refused += 1,
            }
        }
        assert_eq!(granted, 10);
        assert_eq!(refused, 2);
    }
}

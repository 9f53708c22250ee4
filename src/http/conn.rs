//! One connection's life: the per-IP cap, and the timers that keep idle sockets from holding
//! connection slots. hyper's own header timeout starts only with the first byte of an HTTP/1
//! request and HTTP/2 has no idle timeout, so both are enforced here, over any protocol, from what
//! the service sees: a connection must bring a complete request (its headers) within
//! `header_timeout` of opening, and one with no request in flight for `idle_timeout` is closed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// After a graceful close is asked for, the peer has this long to finish before the socket is
/// dropped (an HTTP/2 peer may never acknowledge the GOAWAY).
pub const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Connections held per client IP; a slot is given back when its [`IpSlot`] drops.
#[derive(Default)]
pub struct PerIp {
    held: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection's place in [`PerIp`].
pub struct IpSlot {
    owner: Arc<PerIp>,
    ip: IpAddr,
}

impl PerIp {
    /// A slot for `ip`, or `None` when it already holds `limit` connections.
    pub fn take(self: &Arc<Self>, ip: IpAddr, limit: usize) -> Option<IpSlot> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let n = held.entry(ip).or_insert(0);
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(IpSlot {
            owner: self.clone(),
            ip,
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut held = self.owner.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = held.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.ip);
            }
        }
    }
}

/// What the service tells the connection's timer: requests in flight and when the last one ended.
pub struct Activity {
    opened: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds after `opened` when the last request ended; `u64::MAX` before any request.
    last_ms: AtomicU64,
}

/// Counts one request in flight for as long as it lives (also when its future is dropped).
pub struct InRequest(Arc<Activity>);

impl Activity {
    pub fn new() -> Arc<Self> {
        Arc::new(Activity {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_ms: AtomicU64::new(u64::MAX),
        })
    }

    /// Called by the service when a request's headers have arrived.
    pub fn begin(self: &Arc<Self>) -> InRequest {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InRequest(self.clone())
    }

    /// When the connection is due to be closed if nothing happens before; `None` while a request
    /// is in flight (its own timeouts bound it).
    pub fn due(&self, header_timeout: Duration, idle_timeout: Duration) -> Option<Instant> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        match self.last_ms.load(Ordering::Acquire) {
            u64::MAX => Some(self.opened + header_timeout),
            ms => Some(self.opened + Duration::from_millis(ms) + idle_timeout),
        }
    }
}

impl Drop for InRequest {
    fn drop(&mut self) {
        let a = &self.0;
        let ms = u64::try_from(a.opened.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        a.last_ms.store(ms, Ordering::Release);
        a.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_ip_slots_are_capped_and_given_back() {
        let per_ip = Arc::new(PerIp::default());
        let ip = IpAddr::from([127, 0, 0, 1]);
        let a = per_ip.take(ip, 2);
        let b = per_ip.take(ip, 2);
        assert!(a.is_some() && b.is_some());
        assert!(per_ip.take(ip, 2).is_none());
        assert!(per_ip.take(IpAddr::from([127, 0, 0, 2]), 2).is_some());
        drop(a);
        assert!(per_ip.take(ip, 2).is_some());
    }

    #[test]
    fn idle_deadline_follows_requests() {
        let (header, idle) = (Duration::from_secs(10), Duration::from_secs(60));
        let a = Activity::new();
        assert_eq!(a.due(header, idle), Some(a.opened + header));
        let r = a.begin();
        assert_eq!(a.due(header, idle), None);
        drop(r);
        let due = a.due(header, idle).unwrap_or(a.opened);
        assert!(
            due >= a.opened + idle,
            "idle timeout counts from the last request"
        );
    }
}

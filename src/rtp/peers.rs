//! Where receiver reports go: the addresses RTCP came from, as long as they are alive (sans I/O).
//!
//! A sender that said BYE, or has not sent RTCP for a while, gets no more reports; the list is
//! bounded, so thousands of addresses sending one RTCP packet each cannot make the recorder send
//! thousands of reports every few seconds.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

/// The most addresses reported to at once. A room's speakers each send RTCP from one address
/// (Janus sends all of them from one); far fewer than this.
pub const MAX_RTCP_PEERS: usize = 256;
/// A peer silent this long is gone: RTCP senders report every 5 s or so (RFC 3550 6.2).
pub const PEER_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
pub struct RtcpPeers {
    last_heard: HashMap<SocketAddr, Duration>,
}

impl RtcpPeers {
    /// An RTCP datagram from `from` at `now`; `bye`: it said goodbye.
    pub fn heard(&mut self, from: SocketAddr, now: Duration, bye: bool) {
        if bye {
            self.last_heard.remove(&from);
            return;
        }
        if self.last_heard.len() >= MAX_RTCP_PEERS && !self.last_heard.contains_key(&from) {
            self.expire(now);
            if self.last_heard.len() >= MAX_RTCP_PEERS {
                // Full of live peers: the stalest makes way, so a newcomer is never locked out.
                if let Some(stalest) = self.last_heard.iter().min_by_key(|(_, t)| **t).map(|(a, _)| *a) {
                    self.last_heard.remove(&stalest);
                }
            }
        }
        self.last_heard.insert(from, now);
    }

    /// The peers to send a report to at `now`; the silent ones are forgotten.
    pub fn live(&mut self, now: Duration) -> Vec<SocketAddr> {
        self.expire(now);
        let mut peers: Vec<SocketAddr> = self.last_heard.keys().copied().collect();
        peers.sort();
        peers
    }

    fn expire(&mut self, now: Duration) {
        self.last_heard.retain(|_, t| now.saturating_sub(*t) <= PEER_TIMEOUT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(i: u32) -> SocketAddr {
        SocketAddr::from(([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 5000))
    }

    #[test]
    fn reports_go_to_live_peers_only_not_to_those_that_said_bye_or_went_quiet() {
        let mut peers = RtcpPeers::default();
        let s = Duration::from_secs;
        peers.heard(addr(1), s(0), false);
        peers.heard(addr(2), s(0), false);
        peers.heard(addr(3), s(1), false);
        peers.heard(addr(2), s(2), true); // BYE
        assert_eq!(peers.live(s(5)), vec![addr(1), addr(3)]);
        peers.heard(addr(3), s(20), false);
        assert_eq!(peers.live(s(31)), vec![addr(3)], "addr 1 was silent for over 30 s");
    }

    #[test]
    fn thousands_of_addresses_stay_within_the_bound_and_a_newcomer_still_gets_in() {
        let mut peers = RtcpPeers::default();
        for i in 0..2_000 {
            peers.heard(addr(i), Duration::from_millis(i as u64), false);
        }
        let live = peers.live(Duration::from_secs(3));
        assert_eq!(live.len(), MAX_RTCP_PEERS);
        assert!(live.contains(&addr(1_999)), "the newest peer is reported to");
    }
}

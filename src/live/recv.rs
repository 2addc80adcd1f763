//! Receiving datagrams cheaply: a thread of its own wakes every 20 ms, drains its sockets without
//! blocking and hands the batch on. A busy room then costs 50 wake-ups a second whatever its packet
//! rate (an event loop is woken by every datagram that arrives), and on Linux one `recvmmsg` call
//! takes up to 64 datagrams. Arrival times are taken per batch: 20 ms of granularity, well inside
//! the 200 ms reorder window, and the receiver's placement follows the lowest delay it sees.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::record::{Datagram, SourceEvent};

/// How long datagrams gather in the socket buffer between reads.
pub const COALESCE: Duration = Duration::from_millis(20);

/// Spawns the receiving thread for `sockets` (set non-blocking here). It stops when `stop` is set or
/// the recorder hangs up.
pub fn spawn(
    sockets: Vec<UdpSocket>,
    events: mpsc::Sender<SourceEvent>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for s in &sockets {
            let _ = s.set_nonblocking(true);
        }
        let mut receiver = BatchReceiver::new();
        while !stop.load(Ordering::Relaxed) {
            let mut batch = Vec::new();
            let mut drained = true;
            for s in &sockets {
                drained &= receiver.drain(s, &mut batch);
            }
            if !batch.is_empty() && events.blocking_send(SourceEvent::Datagrams(batch)).is_err() {
                return;
            }
            if drained {
                std::thread::sleep(COALESCE);
            }
        }
    })
}

/// Most datagrams taken per wake-up before they are handed on.
pub const BATCH: usize = 1024;

#[cfg(target_os = "linux")]
const PER_CALL: usize = 64;
/// Opus over RTP stays far below this; a larger datagram arrives truncated and is counted malformed.
#[cfg(target_os = "linux")]
const MAX_DATAGRAM: usize = 4096;

pub struct BatchReceiver {
    #[cfg(target_os = "linux")]
    data: Vec<u8>,
    #[cfg(target_os = "linux")]
    addrs: Vec<libc::sockaddr_storage>,
    #[cfg(not(target_os = "linux"))]
    buf: Vec<u8>,
}

impl Default for BatchReceiver {
    fn default() -> Self {
        Self::new()
    }
}

impl BatchReceiver {
    pub fn new() -> Self {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
            let zero: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
            BatchReceiver { data: vec![0; PER_CALL * MAX_DATAGRAM], addrs: vec![zero; PER_CALL] }
        }
        #[cfg(not(target_os = "linux"))]
        BatchReceiver { buf: vec![0; 65_536] }
    }

    /// Takes every datagram ready on the non-blocking `socket` (up to the batch limit). Returns
    /// whether the socket was drained (false: the batch filled first).
    pub fn drain(&mut self, socket: &UdpSocket, batch: &mut Vec<Datagram>) -> bool {
        let at = Instant::now();
        while batch.len() < BATCH {
            match self.receive(socket, at, batch) {
                Ok(0) | Err(_) => return true,
                Ok(_) => {}
            }
        }
        false
    }

    #[cfg(target_os = "linux")]
    fn receive(&mut self, socket: &UdpSocket, at: Instant, batch: &mut Vec<Datagram>) -> std::io::Result<usize> {
        use std::os::fd::AsRawFd;
        let fd = socket.as_raw_fd();
        let n = {
            let mut iovecs: Vec<libc::iovec> = self
                .data
                .chunks_exact_mut(MAX_DATAGRAM)
                .map(|c| libc::iovec { iov_base: c.as_mut_ptr().cast(), iov_len: MAX_DATAGRAM })
                .collect();
            let mut msgs: Vec<libc::mmsghdr> = iovecs
                .iter_mut()
                .zip(self.addrs.iter_mut())
                .map(|(iov, addr)| {
                    // SAFETY: msghdr is plain old data; the fields set below are the ones read.
                    let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
                    hdr.msg_name = (addr as *mut libc::sockaddr_storage).cast();
                    hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
                    hdr.msg_iov = iov;
                    hdr.msg_iovlen = 1;
                    libc::mmsghdr { msg_hdr: hdr, msg_len: 0 }
                })
                .collect();
            // SAFETY: every header points at a live buffer and address slot of ours, for the call's
            // duration; the kernel writes at most the lengths given.
            let n = unsafe {
                libc::recvmmsg(
                    fd,
                    msgs.as_mut_ptr(),
                    PER_CALL as libc::c_uint,
                    libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                )
            };
            if n < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let n = n as usize;
            for (i, msg) in msgs.iter().take(n).enumerate() {
                let len = (msg.msg_len as usize).min(MAX_DATAGRAM);
                let Some(from) = to_socket_addr(&self.addrs[i]) else { continue };
                let start = i * MAX_DATAGRAM;
                batch.push(Datagram { bytes: self.data[start..start + len].to_vec(), at, from });
            }
            n
        };
        Ok(n)
    }

    #[cfg(not(target_os = "linux"))]
    fn receive(&mut self, socket: &UdpSocket, at: Instant, batch: &mut Vec<Datagram>) -> std::io::Result<usize> {
        let (n, from) = socket.recv_from(&mut self.buf)?;
        batch.push(Datagram { bytes: self.buf[..n].to_vec(), at, from });
        Ok(1)
    }
}

#[cfg(target_os = "linux")]
fn to_socket_addr(addr: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match addr.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the family says this storage holds a sockaddr_in.
            let a: &libc::sockaddr_in = unsafe { &*(addr as *const libc::sockaddr_storage).cast() };
            let ip = std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            Some(SocketAddr::new(ip.into(), u16::from_be(a.sin_port)))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says this storage holds a sockaddr_in6.
            let a: &libc::sockaddr_in6 = unsafe { &*(addr as *const libc::sockaddr_storage).cast() };
            let ip = std::net::Ipv6Addr::from(a.sin6_addr.s6_addr);
            Some(SocketAddr::new(ip.into(), u16::from_be(a.sin6_port)))
        }
        _ => None,
    }
}

/// Asks for a large socket receive buffer (8 MB; as root past the system cap): a burst from many
/// speakers, or a moment of disk latency, is then absorbed instead of dropped by the kernel.
pub fn enlarge_receive_buffer(socket: &std::net::UdpSocket) {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let size: libc::c_int = 8 << 20;
        let fd = socket.as_raw_fd();
        let len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        let ptr = &size as *const libc::c_int as *const libc::c_void;
        // SAFETY: setsockopt reads `len` bytes from `ptr`, a live c_int; the fd belongs to `socket`.
        unsafe {
            if libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, ptr, len) != 0 {
                libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, ptr, len);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = socket;
}

//! `TCP_NODELAY` on the PostgreSQL pool's connections.
//!
//! sqlx 0.9.0 stopped setting it (sqlx issue #4335; fixed upstream by pull request #4336, not
//! released when this was written) and has no hook that sees the socket. Without it, a statement
//! sent in two small packets waits for the server's delayed ACK, 40 ms on Linux: refresh grants
//! on PostgreSQL had a p99 of 60 ms in `gatehouse bench` instead of 20. After each new
//! connection, [`set_for_peer_port`] finds the process's TCP sockets whose peer is the
//! database's port and turns Nagle's algorithm off on them. Remove it once sqlx sets the option
//! again (the PostgreSQL test of `db` keeps checking that it is set).

/// Turns Nagle's algorithm off on every TCP socket of this process connected to `port` (Linux;
/// elsewhere nothing happens).
pub fn set_for_peer_port(port: u16) {
    #[cfg(target_os = "linux")]
    linux::each_socket_to(port, |sock| {
        let _ = sock.set_tcp_nodelay(true);
    });
    #[cfg(not(target_os = "linux"))]
    let _ = port;
}

/// For each TCP socket of this process connected to `port`, whether Nagle's algorithm is off.
#[cfg(all(test, target_os = "linux"))]
pub fn nodelay_of_sockets_to(port: u16) -> Vec<bool> {
    let mut found = Vec::new();
    linux::each_socket_to(port, |sock| {
        found.push(sock.tcp_nodelay().unwrap_or(false));
    });
    found
}

#[cfg(target_os = "linux")]
mod linux {
    use std::os::fd::{BorrowedFd, RawFd};

    use socket2::SockRef;

    /// Calls `f` with each open descriptor of this process (from `/proc/self/fd`) that is a TCP
    /// socket whose peer listens on `port`.
    pub fn each_socket_to(port: u16, mut f: impl FnMut(SockRef<'_>)) {
        let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
            return;
        };
        let sockets = dir
            .flatten()
            .filter(|entry| {
                std::fs::read_link(entry.path())
                    .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"))
            })
            .filter_map(|entry| entry.file_name().to_str()?.parse::<RawFd>().ok());
        for fd in sockets {
            // SAFETY: only the peer address and socket options are read or set through it.
            // Should the descriptor be closed (or reused) meanwhile, those calls fail or touch
            // another socket's Nagle setting; no memory is involved.
            let fd = unsafe { BorrowedFd::borrow_raw(fd) };
            let sock = SockRef::from(&fd);
            let to_port = sock
                .peer_addr()
                .ok()
                .and_then(|a| a.as_socket())
                .is_some_and(|a| a.port() == port);
            if to_port {
                f(sock);
            }
        }
    }
}

//! Small networking helpers.

use std::io;
use std::net::{SocketAddr, TcpListener};

/// A 127.0.0.1 address nothing listens on (bound to port 0, then released):
/// connecting to it is refused. Another process could take the port in the
/// meantime, which is unlikely within a test.
pub fn unused_local_addr() -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    listener.local_addr()
}

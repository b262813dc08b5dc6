//! A small TCP proxy on loopback that injects faults into the first N connections — resets them
//! (RST after the request arrived) or stalls them (holds them open without answering) — and
//! forwards everything after that to the real service. Used to prove that storage retries
//! transient failures and gives up on permanent ones.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What happens to a faulty connection.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Read the start of the request, then reset the connection (RST).
    Reset,
    /// Accept and say nothing for this long, then close.
    Stall(Duration),
}

pub struct FaultProxy {
    addr: SocketAddr,
    connections: Arc<AtomicU32>,
    faults: Arc<AtomicU32>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (`host:port`) whose first `first_n` connections get `fault`.
    pub async fn start(upstream: &str, fault: Fault, first_n: u32) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let connections = Arc::new(AtomicU32::new(0));
        let faults = Arc::new(AtomicU32::new(0));
        let upstream = upstream.to_string();
        let (c, f) = (connections.clone(), faults.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let n = c.fetch_add(1, Ordering::SeqCst);
                let upstream = upstream.clone();
                let f = f.clone();
                tokio::spawn(async move {
                    if n < first_n {
                        f.fetch_add(1, Ordering::SeqCst);
                        match fault {
                            Fault::Reset => {
                                let mut buf = [0u8; 512];
                                let _ = tokio::time::timeout(
                                    Duration::from_secs(2),
                                    client.read(&mut buf),
                                )
                                .await;
                                // Zero linger: the close sends RST at once (it does not block).
                                #[allow(deprecated)]
                                let _ = client.set_linger(Some(Duration::ZERO));
                                drop(client);
                            }
                            Fault::Stall(d) => {
                                tokio::time::sleep(d).await;
                                drop(client);
                            }
                        }
                        return;
                    }
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Ok(Self {
            addr,
            connections,
            faults,
            task,
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u32 {
        self.connections.load(Ordering::SeqCst)
    }

    /// Faults injected so far.
    pub fn faults_injected(&self) -> u32 {
        self.faults.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `host:port` of an `http://host:port/...` URL.
pub fn host_port(url: &str) -> String {
    let rest = url.split("://").nth(1).unwrap_or(url);
    rest.split('/').next().unwrap_or(rest).to_string()
}

/// The path part of an `http://host:port/path` URL (empty when none).
pub fn path_of(url: &str) -> String {
    let rest = url.split("://").nth(1).unwrap_or(url);
    rest.find('/')
        .map(|i| rest[i..].to_string())
        .unwrap_or_default()
}

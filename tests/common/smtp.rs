//! A small SMTP server on loopback that accepts every message and keeps it, so a
//! test can watch a real SMTP conversation from lettre.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
    /// Every command the client sent, in order.
    pub commands: Vec<String>,
}

#[derive(Clone, Default)]
pub struct SmtpSink {
    pub messages: Arc<Mutex<Vec<Received>>>,
}

impl SmtpSink {
    /// Listen on a free loopback port; returns the sink and the port.
    pub async fn start() -> (SmtpSink, u16) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let port = listener.local_addr().expect("addr").port();
        let sink = SmtpSink::default();
        let s = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = s.session(stream).await;
                });
            }
        });
        (sink, port)
    }

    async fn session(&self, stream: tokio::net::TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
        let mut current = Received { from: String::new(), to: vec![], data: String::new(), commands: vec![] };
        while let Some(line) = lines.next_line().await? {
            current.commands.push(line.clone());
            let upper = line.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") {
                b"250-sink.test\r\n250 8BITMIME\r\n"
            } else if upper.starts_with("HELO") {
                b"250 sink.test\r\n"
            } else if let Some(rest) = upper.strip_prefix("MAIL FROM:") {
                current.from = line[line.len() - rest.len()..].trim().to_string();
                b"250 OK\r\n"
            } else if let Some(rest) = upper.strip_prefix("RCPT TO:") {
                current.to.push(line[line.len() - rest.len()..].trim().to_string());
                b"250 OK\r\n"
            } else if upper == "DATA" {
                write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                let mut data = String::new();
                while let Some(l) = lines.next_line().await? {
                    if l == "." {
                        break;
                    }
                    data.push_str(l.strip_prefix('.').filter(|_| l.starts_with("..")).unwrap_or(&l));
                    data.push('\n');
                }
                current.data = data;
                self.messages.lock().expect("lock").push(current.clone());
                current = Received { from: String::new(), to: vec![], data: String::new(), commands: vec![] };
                b"250 OK: queued\r\n"
            } else if upper == "QUIT" {
                write.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            } else if upper == "RSET" || upper == "NOOP" {
                b"250 OK\r\n"
            } else {
                b"502 Command not implemented\r\n"
            };
            write.write_all(reply).await?;
        }
        Ok(())
    }

    pub fn received(&self) -> Vec<Received> {
        self.messages.lock().expect("lock").clone()
    }
}

//! Reads one sidecar log at a time over ssh and reports its lines in bursts; a new request
//! (or none) stops the reader before. Lines come as fast as the log grows, so they are sent
//! in batches: a busy log costs the console one message per burst, not one per line.

use crate::msg::Msg;
use crate::msg::logs::{LogEvent, LogRequest};
use std::time::Duration;
use tokio::sync::mpsc;

/// At most this many lines per message, and at most this long before a partial batch goes.
const BATCH: usize = 512;
const LINGER: Duration = Duration::from_millis(50);

/// The log reader: send `Some(request)` to read, `None` to stop.
pub fn spawn(tx: mpsc::Sender<Msg>) -> mpsc::Sender<Option<LogRequest>> {
    let (req_tx, mut req_rx) = mpsc::channel::<Option<LogRequest>>(4);
    tokio::spawn(async move {
        let mut reader: Option<tokio::task::JoinHandle<()>> = None;
        while let Some(req) = req_rx.recv().await {
            if let Some(r) = reader.take() {
                // Dropping the reader's ssh process ends the remote tail with it.
                r.abort();
            }
            if let Some(req) = req {
                reader = Some(tokio::spawn(read(req, tx.clone())));
            }
        }
        if let Some(r) = reader {
            r.abort();
        }
    });
    req_tx
}

async fn read(req: LogRequest, tx: mpsc::Sender<Msg>) {
    let key = req.key.clone();
    let ended = |error| {
        Msg::Log(LogEvent::Ended {
            key: key.clone(),
            error,
        })
    };
    let dest = match crate::io::ssh::Destination::parse(&req.destination) {
        Ok(d) => d,
        Err(e) => {
            let _ = tx.send(ended(Some(e))).await;
            return;
        }
    };
    let pool = crate::io::ssh::pool();
    let mut lines = match pool.lines(&dest, &req.command).await {
        Ok(l) => l,
        Err(e) => {
            let _ = tx.send(ended(Some(e))).await;
            return;
        }
    };
    let mut batch: Vec<String> = Vec::new();
    loop {
        // Cancel-safe: a line half read when the wait runs out is read on the next call.
        let next = if batch.is_empty() {
            Some(lines.next().await)
        } else {
            tokio::time::timeout(LINGER, lines.next()).await.ok()
        };
        let (flush, done) = match next {
            Some(Ok(Some(line))) => {
                batch.push(line);
                (batch.len() >= BATCH, None)
            }
            Some(Ok(None)) => (true, Some(None)),
            Some(Err(e)) => (true, Some(Some(e))),
            // Quiet for a moment: what came so far goes now.
            None => (true, None),
        };
        if flush && !batch.is_empty() {
            let lines = std::mem::take(&mut batch);
            let msg = Msg::Log(LogEvent::Lines {
                key: key.clone(),
                lines,
            });
            if tx.send(msg).await.is_err() {
                return;
            }
        }
        if let Some(error) = done {
            let _ = tx.send(ended(error)).await;
            return;
        }
    }
}

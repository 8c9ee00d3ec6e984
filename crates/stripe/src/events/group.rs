//! Group commit: concurrent deliveries are stored and acted on together, one database
//! transaction for many, as TigerBeetle and PostgreSQL's own WAL amortise a commit over a batch.
//!
//! A delivery is parsed (a malformed one is refused at once, never queued), then queued. A few
//! committers each take everything waiting (up to [`GROUP_MAX`]) and run it through
//! [`Dispatcher::receive_batch`]; each delivery is answered only after its group committed. No
//! committer waits for a group to fill: an idle server commits a lone delivery at once, and under
//! load a group is what arrived while the previous commits ran, so batches grow with the load and
//! the wait never exceeds one commit.
//!
//! A delivery whose client went away after queueing is still stored (as if the server crashed
//! after the commit): Stripe's retry finds it and is answered as a duplicate.

use std::sync::{Arc, OnceLock};

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Mutex};

use super::{Dispatcher, Event, Receipt};
use crate::Error;

/// Most events in one group commit: enough to amortise the commit, few enough that a group's
/// statements stay short and a group undone (received one by one) stays cheap.
pub const GROUP_MAX: usize = 64;
/// Committers working at once, each with its own database connection: while one commits, the
/// next group forms and another runs.
const COMMITTERS: usize = 3;
/// Deliveries waiting for a committer before new ones wait to be queued (back-pressure).
const QUEUE_MAX: usize = 4096;

struct Waiting {
    event: Event,
    answer: oneshot::Sender<Result<Receipt, Error>>,
}

/// Stores Stripe's deliveries by group commit. Cheap to clone; committers start on first use
/// (inside the runtime) and stop when every clone is dropped.
#[derive(Clone)]
pub struct GroupCommit {
    inner: Arc<Inner>,
}

struct Inner {
    dispatcher: Arc<Dispatcher>,
    pool: PgPool,
    queue: OnceLock<mpsc::Sender<Waiting>>,
}

impl GroupCommit {
    pub fn new(dispatcher: Arc<Dispatcher>, pool: PgPool) -> GroupCommit {
        GroupCommit { inner: Arc::new(Inner { dispatcher, pool, queue: OnceLock::new() }) }
    }

    /// The table the events go through (the same for single receipts, e.g. the Events API sync).
    pub fn dispatcher(&self) -> &Arc<Dispatcher> {
        &self.inner.dispatcher
    }

    /// Stores a verified delivery once and acts on it, in a group with whatever else is waiting.
    /// `body` must already have passed [`crate::signature::verify`].
    pub async fn receive(&self, body: &[u8]) -> Result<Receipt, Error> {
        let event = Event::parse(body)?;
        let (answer, answered) = oneshot::channel();
        self.queue().send(Waiting { event, answer }).await.map_err(|_| Error::Stopping)?;
        answered.await.map_err(|_| Error::Stopping)?
    }

    fn queue(&self) -> &mpsc::Sender<Waiting> {
        self.inner.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUE_MAX);
            let receiver = Arc::new(Mutex::new(receiver));
            for _ in 0..COMMITTERS {
                tokio::spawn(commit_groups(
                    self.inner.dispatcher.clone(),
                    self.inner.pool.clone(),
                    receiver.clone(),
                ));
            }
            sender
        })
    }
}

/// One committer: takes what is waiting, receives it as one group, answers each delivery.
/// Ends when the queue is closed (every [`GroupCommit`] dropped) and drained.
async fn commit_groups(
    dispatcher: Arc<Dispatcher>,
    pool: PgPool,
    queue: Arc<Mutex<mpsc::Receiver<Waiting>>>,
) {
    let mut group: Vec<Waiting> = Vec::with_capacity(GROUP_MAX);
    loop {
        {
            let mut queue = queue.lock().await;
            if queue.recv_many(&mut group, GROUP_MAX).await == 0 {
                return;
            }
        }
        let (events, answers): (Vec<Event>, Vec<_>) = group.drain(..).map(|w| (w.event, w.answer)).unzip();
        metrics::histogram!(GROUP_SIZE).record(f64::from(u32::try_from(events.len()).unwrap_or(u32::MAX)));
        let receipts = dispatcher.receive_batch(&pool, events).await;
        for (answer, receipt) in answers.into_iter().zip(receipts) {
            // the client may have gone; what was stored stays stored
            answer.send(receipt).ok();
        }
    }
}

/// Prometheus histogram: events per group commit.
pub const GROUP_SIZE: &str = "zbor_stripe_event_group_size";

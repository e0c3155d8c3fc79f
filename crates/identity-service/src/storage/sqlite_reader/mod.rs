//! A pool of blocking rusqlite connections for the OData read path on a
//! SQLite file: the translator's sea-query statements run here without
//! sqlx's per-connection worker thread and per-row channel messages. Writes
//! and migrations stay on SeaORM/sqlx; both link the same bundled SQLite
//! (`libsqlite3-sys` 0.37).
//!
//! # Threads
//!
//! Each connection lives for the life of the pool on a reader thread of its
//! own. [`SqliteReaders::run`] puts the closure on one FIFO queue (a mutex
//! and a condition variable: no busy loop, first come first served) and
//! awaits its result on a oneshot channel: one hop to a reader thread and
//! one back, whatever the number of rows, which is the least a blocking
//! driver allows. Dedicated threads rather than `tokio::task::spawn_blocking`
//! because
//!
//! - a connection stays on one thread, with its statement cache and page
//!   cache warm in that core's caches, and no connection checkout/checkin
//!   is needed around every call (spawn_blocking would also need a pool of
//!   connections besides the blocking thread pool);
//! - it needs no Tokio blocking pool (actix workers run current-thread
//!   runtimes; the blocking pool grows up to 512 threads under load, while
//!   this pool never runs more than `readers` queries at a time);
//! - a caller that went away (request cancelled) is noticed before its
//!   closure starts, which then does not run at all; a closure waiting
//!   longer than the acquire timeout is answered [`ReaderError::Timeout`]
//!   (503, like the sqlx pool's acquire timeout) without a timer per call.
//!
//! The cost per call is the same as spawn_blocking's: one boxed closure and
//! one oneshot channel.
//!
//! # Time limit and cancellation
//!
//! Every reader connection has a progress handler (the mechanism of the
//! inline reads below: no watchdog thread) that looks at the clock every
//! `INLINE_CHECK_STEPS` virtual-machine steps. It interrupts the running
//! statement once the job has run longer than the read timeout
//! ([`SqliteReaders::with_read_timeout`]; the answer is then
//! [`ReaderError::TimedOut`]), or as soon as the caller went away: the
//! future of [`SqliteReaders::run`] raises a flag when it is dropped
//! before its result arrived (a client that disconnected), and the handler
//! stops the statement at its next check. Either way the reader is free
//! again within microseconds.
//!
//! Reads expected to be cheap skip the hop: [`SqliteReaders::run_inline`]
//! runs them on the calling (HTTP worker) thread with a connection of that
//! thread's own, interrupted by a progress handler past the inline budget,
//! after which the caller runs them on the pool.
//!
//! # Plans
//!
//! [`prepare_cached`] turns SQLite's query planner stability guarantee on
//! for statements whose plan need not depend on the bound values (see
//! [`value_dependent`]): with STAT4, SQLite re-prepares a statement each
//! time a value its plan looked at is bound again.
//!
//! # Values
//!
//! [`bind`] encodes sea-query values exactly as sqlx-sqlite (through
//! `sea-query-sqlx`, i.e. SeaORM) encodes them when it writes and binds:
//! UUIDs as 16-byte blobs, `DateTime<Utc>` as RFC 3339 text with `+00:00`
//! and as many fractional digits as needed, booleans as 0/1. The decoders
//! (`uuid`, `timestamp`, `boolean`, ...) accept exactly what sqlx's
//! decoders accept for the value's storage class, so a row reads the same
//! through either driver.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

/// Prepared statements kept per connection. The translator's statements
/// differ by shape (filter, order, selection, page with or without a seek
/// position, `IN` lists of different lengths for `$expand`), not by value:
/// 256 shapes per connection covers a busy service's common queries.
pub const STATEMENT_CACHE_CAPACITY: usize = 256;

/// How long a connection waits for a lock held by another connection, the
/// same as the sqlx pool's (`storage::db`).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Default wait for a free reader before [`ReaderError::Timeout`].
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// What went wrong reading through the pool.
#[derive(Debug, thiserror::Error)]
pub enum ReaderError {
    /// SQLite refused the statement or failed while running it.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A value could not be decoded as the type asked for (or a value to
    /// bind is of a kind the translator never produces).
    #[error("decoding a SQLite value: {0}")]
    Decode(String),
    /// No reader became free within the acquire timeout.
    #[error("no SQLite reader connection became free within {0:?}")]
    Timeout(Duration),
    /// The pool is shut down.
    #[error("the SQLite reader pool is closed")]
    Closed,
    /// The closure panicked on the reader thread (the connection survives).
    #[error("a SQLite reader closure panicked")]
    Panicked,
    /// A statement ran past the read timeout and was interrupted.
    #[error("the statement ran past the read time limit of {0:?}")]
    TimedOut(Duration),
}

impl From<ReaderError> for sea_orm::DbErr {
    fn from(e: ReaderError) -> Self {
        use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};
        match e {
            ReaderError::Timeout(_) => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            ReaderError::Closed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
            ReaderError::Decode(message) => DbErr::Type(message),
            e @ (ReaderError::Sqlite(_) | ReaderError::Panicked | ReaderError::TimedOut(_)) => {
                DbErr::Query(RuntimeErr::Internal(e.to_string()))
            }
        }
    }
}

type Job = Box<dyn FnOnce(Result<&Connection, ReaderError>, &Limits) + Send>;

struct Queued {
    enqueued: Instant,
    /// Raised when the caller's future is dropped (see [`CancelOnDrop`]).
    cancelled: Arc<AtomicBool>,
    job: Job,
}

/// What the progress handler of one reader connection checks: the
/// deadline of the running job (nanoseconds since `epoch`, `u64::MAX` for
/// none) and its caller's cancellation flag.
struct Limits {
    epoch: Instant,
    deadline: AtomicU64,
    timed_out: AtomicBool,
    cancelled: Mutex<Option<Arc<AtomicBool>>>,
}

impl Limits {
    fn new() -> Self {
        Limits {
            epoch: Instant::now(),
            deadline: AtomicU64::new(u64::MAX),
            timed_out: AtomicBool::new(false),
            cancelled: Mutex::new(None),
        }
    }

    /// Whether the running statement must stop (called by the handler).
    fn interrupt(&self) -> bool {
        let limit = self.deadline.load(Ordering::Relaxed);
        if limit != u64::MAX && nanos_since(self.epoch) > limit {
            self.timed_out.store(true, Ordering::Relaxed);
            return true;
        }
        self.cancelled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// Starts a job: `timeout` from now (zero: none), `cancelled` its
    /// caller's flag (none for an inline read: its caller is waiting).
    fn arm(&self, timeout: Duration, cancelled: Option<Arc<AtomicBool>>) {
        self.timed_out.store(false, Ordering::Relaxed);
        *self
            .cancelled
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = cancelled;
        let deadline = if timeout.is_zero() {
            u64::MAX
        } else {
            let nanos = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX - 1);
            nanos_since(self.epoch)
                .saturating_add(nanos)
                .min(u64::MAX - 1)
        };
        self.deadline.store(deadline, Ordering::Relaxed);
    }

    /// Ends a job: nothing is interrupted until the next [`arm`](Self::arm).
    fn disarm(&self) {
        self.deadline.store(u64::MAX, Ordering::Relaxed);
        *self
            .cancelled
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }

    fn timed_out(&self) -> bool {
        self.timed_out.load(Ordering::Relaxed)
    }
}

/// Raises the flag when dropped: the future of [`SqliteReaders::run`]
/// holds one, so a caller that goes away (the client disconnected, the
/// handler's future was dropped) interrupts its running statement.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Queued>,
    closed: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
    acquire_timeout: Duration,
    /// The read timeout in nanoseconds, 0 for none.
    read_timeout: AtomicU64,
    /// The database file (inline connections open it on first use).
    file: PathBuf,
}

/// The budget of a read run inline before it is interrupted and handed to
/// the reader threads (see [`SqliteReaders::run_inline`]).
pub const DEFAULT_INLINE_BUDGET: Duration = Duration::from_millis(10);

/// How many SQLite virtual-machine steps run between two looks at the
/// clock of a reader connection (a few microseconds of work).
const INLINE_CHECK_STEPS: std::ffi::c_int = 1000;

/// A connection of the calling thread to one pool's file, for reads run
/// inline, with the progress handler of the reader threads' connections:
/// its [`Limits`] are armed with the inline budget.
struct InlineConnection {
    pool: Weak<Shared>,
    conn: Connection,
    limits: Arc<Limits>,
}

thread_local! {
    /// This thread's inline connections, one per live pool it has served.
    static INLINE: RefCell<Vec<InlineConnection>> = const { RefCell::new(Vec::new()) };
}

impl InlineConnection {
    fn open(shared: &Arc<Shared>) -> rusqlite::Result<Self> {
        let conn = open_connection(&shared.file)?;
        let limits = Arc::new(Limits::new());
        let handler = limits.clone();
        conn.progress_handler(INLINE_CHECK_STEPS, Some(move || handler.interrupt()))?;
        Ok(InlineConnection {
            pool: Arc::downgrade(shared),
            conn,
            limits,
        })
    }
}

fn nanos_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX - 1)
}

/// A fixed number of read-only (`query_only`) connections on one SQLite
/// file, each on a thread of its own. Dropping the pool lets the queued
/// closures finish, then the threads end and close their connections.
pub struct SqliteReaders {
    shared: Arc<Shared>,
    readers: usize,
    inline_budget: Duration,
}

impl std::fmt::Debug for SqliteReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteReaders")
            .field("readers", &self.readers)
            .finish_non_exhaustive()
    }
}

impl SqliteReaders {
    /// Opens `readers` connections (at least one) on the SQLite file `file`
    /// with the default acquire timeout.
    ///
    /// The file must exist (the writer pool creates and migrates it, and
    /// sets WAL mode, which is persistent). Each connection is opened
    /// read-write without create (so it can recover a hot journal or
    /// checkpoint on close like any WAL connection) and then made
    /// `PRAGMA query_only`, so no statement through this pool can write;
    /// it gets the busy timeout of the sqlx pool, a statement cache of
    /// [`STATEMENT_CACHE_CAPACITY`] and the `odata_lower`/`odata_upper`
    /// functions.
    pub fn open(file: &Path, readers: usize) -> anyhow::Result<Self> {
        Self::open_with_timeout(file, readers, DEFAULT_ACQUIRE_TIMEOUT)
    }

    /// [`open`](Self::open) with the wait for a free reader before
    /// [`ReaderError::Timeout`] (`db_acquire_timeout_seconds`).
    pub fn open_with_timeout(
        file: &Path,
        readers: usize,
        acquire_timeout: Duration,
    ) -> anyhow::Result<Self> {
        let readers = readers.max(1);
        let mut connections = Vec::with_capacity(readers);
        for _ in 0..readers {
            connections.push(
                open_connection(file).with_context(|| {
                    format!("cannot open a SQLite reader on {}", file.display())
                })?,
            );
        }
        // A SQLite built without its compile-option functions cannot be
        // checked; that is no reason not to serve.
        let costly = connections
            .first()
            .map(build_options::costly_options)
            .and_then(Result::ok)
            .unwrap_or_default();
        for option in costly {
            tracing::warn!(
                "the linked SQLite is built with {option} (this repository builds it with \
                 LIBSQLITE3_FLAGS from .cargo/config.toml)"
            );
        }
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
            acquire_timeout,
            read_timeout: AtomicU64::new(0),
            file: file.to_owned(),
        });
        let pool = SqliteReaders {
            shared: shared.clone(),
            readers,
            inline_budget: DEFAULT_INLINE_BUDGET,
        };
        for (i, conn) in connections.into_iter().enumerate() {
            let shared = shared.clone();
            let limits = Arc::new(Limits::new());
            let handler = limits.clone();
            conn.progress_handler(INLINE_CHECK_STEPS, Some(move || handler.interrupt()))
                .context("cannot set the progress handler of a SQLite reader")?;
            // On failure `pool` is dropped: the threads already started end.
            std::thread::Builder::new()
                .name(format!("sqlite-reader-{i}"))
                .spawn(move || worker(&shared, &conn, &limits))
                .context("cannot start a SQLite reader thread")?;
        }
        Ok(pool)
    }

    /// The number of reader connections.
    pub fn readers(&self) -> usize {
        self.readers
    }

    /// Sets the longest a job on a reader thread may run before its
    /// statement is interrupted and the answer is
    /// [`ReaderError::TimedOut`]; zero (the default) sets no limit.
    #[must_use]
    pub fn with_read_timeout(self, timeout: Duration) -> Self {
        self.shared.read_timeout.store(
            u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self
    }

    /// The read timeout (zero: none).
    pub fn read_timeout(&self) -> Duration {
        Duration::from_nanos(self.shared.read_timeout.load(Ordering::Relaxed))
    }

    /// Sets the time an inline read may take before it is interrupted and
    /// run on the reader threads instead; zero turns inline reads off.
    #[must_use]
    pub fn with_inline_budget(mut self, budget: Duration) -> Self {
        self.inline_budget = budget;
        self
    }

    /// Runs `f` on the calling thread, with a connection of this thread's
    /// own to the pool's file (opened on first use, kept for the life of
    /// the thread or of the pool), as a hand-written handler would: no
    /// hop to a reader thread and back. For reads expected to be cheap.
    ///
    /// `None` when `f` did not give the answer and the caller should use
    /// [`run`](Self::run): inline reads are off, the connection could not
    /// be opened, or a statement of `f` ran past the inline budget and was
    /// interrupted (its partial result is dropped; a read changes nothing,
    /// so running it again is safe). A panic in `f` is
    /// [`ReaderError::Panicked`], as on the reader threads.
    pub fn run_inline<R>(
        &self,
        f: impl FnOnce(&Connection) -> R,
    ) -> Option<Result<R, ReaderError>> {
        if self.inline_budget.is_zero() {
            return None;
        }
        INLINE.try_with(|cell| {
            let mut inline = cell.try_borrow_mut().ok()?;
            // Forget the connections of pools that are gone.
            inline.retain(|c| c.pool.strong_count() > 0);
            let position = match inline
                .iter()
                .position(|c| std::ptr::eq(c.pool.as_ptr(), Arc::as_ptr(&self.shared)))
            {
                Some(i) => i,
                None => match InlineConnection::open(&self.shared) {
                    Ok(c) => {
                        inline.push(c);
                        inline.len() - 1
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot open an inline SQLite reader connection");
                        return None;
                    }
                },
            };
            let c = &inline[position];
            c.limits.arm(self.inline_budget, None);
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| f(&c.conn)));
            c.limits.disarm();
            if !c.conn.is_autocommit() {
                let _ = c.conn.execute_batch("ROLLBACK");
            }
            if c.limits.timed_out() {
                return None;
            }
            Some(result.map_err(|_| ReaderError::Panicked))
        })
        .ok()
        .flatten()
    }

    /// Runs `f` with one free reader connection on its reader thread and
    /// returns its result. Callers wait in arrival order while every reader
    /// is busy; after the acquire timeout the answer is
    /// [`ReaderError::Timeout`]. When the returned future is dropped before
    /// `f` started, `f` does not run; when it is dropped while `f` runs,
    /// `f`'s statement is interrupted. A statement running past the read
    /// timeout is interrupted too, and the answer is
    /// [`ReaderError::TimedOut`] whatever `f` made of the interruption.
    pub async fn run<R, F>(&self, f: F) -> Result<R, ReaderError>
    where
        F: FnOnce(&Connection) -> Result<R, ReaderError> + Send + 'static,
        R: Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<R, ReaderError>>();
        let cancelled = Arc::new(AtomicBool::new(false));
        let timeout = self.read_timeout();
        let job: Job = Box::new(move |conn, limits| {
            if tx.is_closed() {
                return;
            }
            let result = match conn {
                Ok(conn) => {
                    let result = std::panic::catch_unwind(AssertUnwindSafe(|| f(conn)))
                        .unwrap_or(Err(ReaderError::Panicked));
                    if limits.timed_out() {
                        Err(ReaderError::TimedOut(timeout))
                    } else {
                        result
                    }
                }
                Err(e) => Err(e),
            };
            // The caller may have gone meanwhile: nothing to tell then.
            let _ = tx.send(result);
        });
        {
            let mut queue = self
                .shared
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if queue.closed {
                return Err(ReaderError::Closed);
            }
            queue.jobs.push_back(Queued {
                enqueued: Instant::now(),
                cancelled: cancelled.clone(),
                job,
            });
        }
        self.shared.ready.notify_one();
        let _cancel = CancelOnDrop(cancelled);
        rx.await.unwrap_or(Err(ReaderError::Closed))
    }
}

impl Drop for SqliteReaders {
    fn drop(&mut self) {
        self.shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .closed = true;
        self.shared.ready.notify_all();
    }
}

/// One reader thread: takes jobs in order until the pool is closed and the
/// queue drained.
fn worker(shared: &Shared, conn: &Connection, limits: &Limits) {
    loop {
        let next = {
            let mut queue = shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
            loop {
                if let Some(next) = queue.jobs.pop_front() {
                    break Some(next);
                }
                if queue.closed {
                    break None;
                }
                queue = shared
                    .ready
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        let Some(Queued {
            enqueued,
            cancelled,
            job,
        }) = next
        else {
            return;
        };
        if enqueued.elapsed() > shared.acquire_timeout {
            job(Err(ReaderError::Timeout(shared.acquire_timeout)), limits);
            continue;
        }
        limits.arm(
            Duration::from_nanos(shared.read_timeout.load(Ordering::Relaxed)),
            Some(cancelled),
        );
        job(Ok(conn), limits);
        limits.disarm();
        // A closure that left a transaction open would pin an old snapshot
        // (stale reads for every later caller, and a WAL that cannot be
        // checkpointed): end it.
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
    }
}

fn open_connection(file: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "query_only", true)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
    register_functions(&conn)?;
    Ok(conn)
}

mod build_options;
mod decode;
mod functions;
mod statements;

pub use build_options::costly_options;
pub use decode::{boolean, date, double, int64, json, text, timestamp, uuid};
pub use functions::register_functions;
pub use statements::{
    bind, explain_query_plan, for_each_bound_row, for_each_row, prepare_cached, to_sqlite,
    value_dependent,
};

#[cfg(test)]
mod tests;

//! argon2id verification of client secrets on a fixed set of threads.
//!
//! Each thread owns ONE memory block for argon2, allocated on its first
//! verification at the size of the parameters `secrets::hash_secret`
//! stores (19 MiB) and reused for every later one; a stored hash with
//! smaller parameters uses the front of it, one with larger parameters gets
//! a temporary block of its own for that verification only. So the memory
//! of credential checks is `threads × 19 MiB` however many requests arrive
//! (running argon2 on the blocking pool gave every one of its threads, up
//! to hundreds, an allocator arena that kept its 19 MiB: 200 concurrent bad
//! logins took the server past 1 GB).
//!
//! Requests wait in a bounded queue in front of the threads; when it is
//! full [`Verifier::verify`] answers [`Busy`] at once (the caller answers
//! 503 with `Retry-After`). A job whose requester has gone away is skipped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use argon2::password_hash::phc::{Output, PasswordHash};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

/// The verifier cannot take the job now: its queue is full (or its
/// threads are gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

struct Job {
    secret: String,
    stored: String,
    reply: oneshot::Sender<bool>,
}

/// The verification threads and the queue in front of them.
pub struct Verifier {
    jobs: SyncSender<Job>,
    counts: Arc<Counts>,
}

/// What the verifier did, for `/metrics`.
#[derive(Debug, Default)]
pub struct Counts {
    /// argon2 runs completed.
    pub runs: AtomicU64,
    /// Jobs refused because the queue was full.
    pub busy: AtomicU64,
}

/// A PHC string of the default parameters that no secret is known to match:
/// verifying against it costs what a real verification costs, so an
/// unknown client id is not told apart from a wrong secret by timing.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZSBkdW1teSBzYWx0IQ$5mHyw0E3uhsLz6eFcH3xd6vVQGIkRGsTaJxwxP6pnQg";

impl Verifier {
    /// Starts `threads` verification threads (at least one) behind a queue
    /// of `queue` waiting jobs.
    pub fn new(threads: usize, queue: usize) -> Verifier {
        let (jobs, receiver) = mpsc::sync_channel(queue);
        let receiver = Arc::new(Mutex::new(receiver));
        let counts = Arc::new(Counts::default());
        for n in 0..threads.max(1) {
            let (receiver, counts) = (Arc::clone(&receiver), Arc::clone(&counts));
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || work(&receiver, &counts));
            if let Err(error) = spawned {
                // The others still serve; with none, every job is refused.
                tracing::error!(%error, "cannot start a credential verification thread");
            }
        }
        Verifier { jobs, counts }
    }

    /// Counts of runs and refusals since the start.
    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    /// Whether `secret` matches the stored argon2 PHC string `stored` (a
    /// malformed one never matches), computed on a verification thread.
    pub async fn verify(&self, secret: &str, stored: &str) -> Result<bool, Busy> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            secret: secret.to_owned(),
            stored: stored.to_owned(),
            reply,
        };
        match self.jobs.try_send(job) {
            Ok(()) => answer.await.map_err(|_| Busy),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.counts.busy.fetch_add(1, Ordering::Relaxed);
                Err(Busy)
            }
        }
    }
}

/// One verification thread: takes jobs until the verifier is dropped.
fn work(jobs: &Mutex<Receiver<Job>>, counts: &Counts) {
    let mut memory: Vec<Block> = Vec::new();
    loop {
        let job = {
            let Ok(receiver) = jobs.lock() else { return };
            match receiver.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        if job.reply.is_closed() {
            continue;
        }
        let matches = verify_with(&mut memory, job.secret.as_bytes(), &job.stored);
        counts.runs.fetch_add(1, Ordering::Relaxed);
        let _ = job.reply.send(matches);
    }
}

/// Blocks of the default parameters (`m` = 19 MiB, one lane), the size of
/// a thread's own memory.
fn default_blocks() -> usize {
    Params::DEFAULT.block_count()
}

/// argon2 of `secret` with the algorithm, version, parameters and salt of
/// the PHC string `stored`, compared with its hash in constant time.
/// `memory` is the thread's reused block, sized on first use.
fn verify_with(memory: &mut Vec<Block>, secret: &[u8], stored: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut buffer = [0u8; Output::MAX_LENGTH];
    let Some(out) = buffer.get_mut(..expected.len()) else {
        return false;
    };
    let hashed = if blocks <= default_blocks() {
        if memory.len() < default_blocks() {
            memory.resize(default_blocks(), Block::new());
        }
        argon2.hash_password_into_with_memory(secret, salt, out, memory.as_mut_slice())
    } else {
        // Not what this service stores: a block for this verification only.
        let mut temporary = Vec::new();
        if temporary.try_reserve_exact(blocks).is_err() {
            return false;
        }
        temporary.resize(blocks, Block::new());
        argon2.hash_password_into_with_memory(secret, salt, out, temporary.as_mut_slice())
    };
    hashed.is_ok() && Output::new(out).is_ok_and(|computed| computed == *expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::secrets;
    use argon2::password_hash::PasswordHasher;

    #[test]
    fn verifies_stored_hashes_and_reuses_one_block() {
        let secret = secrets::new_secret();
        let stored = secrets::hash_secret(&secret).unwrap();
        let mut memory = Vec::new();
        assert!(verify_with(&mut memory, secret.as_bytes(), &stored));
        assert_eq!(memory.len(), default_blocks());
        let address = memory.as_ptr();
        assert!(!verify_with(&mut memory, b"wrong", &stored));
        assert!(verify_with(&mut memory, secret.as_bytes(), &stored));
        assert_eq!(memory.as_ptr(), address, "the block is reused");
        assert!(!verify_with(
            &mut memory,
            secret.as_bytes(),
            "not a PHC string"
        ));
        assert!(!verify_with(&mut memory, secret.as_bytes(), DUMMY_HASH));
    }

    #[test]
    fn other_parameters_still_verify() {
        let mut memory = Vec::new();
        for (m, t, p) in [
            (1024, 1, 1),
            (default_blocks() as u32 * 2, 1, 2),
            (64, 3, 4),
        ] {
            let params = Params::new(m, t, p, None).unwrap();
            let stored = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .hash_password(b"s3cret")
                .unwrap()
                .to_string();
            assert!(verify_with(&mut memory, b"s3cret", &stored), "{stored}");
            assert!(!verify_with(&mut memory, b"s3creT", &stored), "{stored}");
        }
        // Larger parameters borrowed a temporary block: the thread's own
        // stays at the default size.
        assert_eq!(memory.len(), default_blocks());
        // argon2i and argon2d strings too.
        for algorithm in [Algorithm::Argon2i, Algorithm::Argon2d] {
            let stored = Argon2::new(algorithm, Version::V0x13, Params::DEFAULT)
                .hash_password(b"s3cret")
                .unwrap()
                .to_string();
            assert!(verify_with(&mut memory, b"s3cret", &stored), "{stored}");
        }
    }

    #[test]
    fn the_dummy_hash_has_the_default_parameters() {
        let hash = PasswordHash::new(DUMMY_HASH).unwrap();
        let params = Params::try_from(&hash).unwrap();
        assert_eq!(params.block_count(), default_blocks());
        assert_eq!(params.t_cost(), Params::DEFAULT_T_COST);
        assert_eq!(params.p_cost(), Params::DEFAULT_P_COST);
        assert_eq!(hash.hash.unwrap().len(), 32);
    }

    #[tokio::test]
    async fn a_full_queue_is_busy() {
        // One thread, one waiting job: while it hashes, the others are refused.
        let verifier = Arc::new(Verifier::new(1, 1));
        let stored = secrets::hash_secret("x").unwrap();
        let mut answers = Vec::new();
        for _ in 0..8 {
            let (verifier, stored) = (Arc::clone(&verifier), stored.clone());
            answers.push(tokio::spawn(
                async move { verifier.verify("x", &stored).await },
            ));
        }
        let mut results = Vec::new();
        for answer in answers {
            results.push(answer.await.unwrap());
        }
        assert!(results.contains(&Err(Busy)), "{results:?}");
        assert!(results.contains(&Ok(true)), "{results:?}");
        assert_eq!(verifier.verify("y", &stored).await, Ok(false));
        let busy = results.iter().filter(|r| r.is_err()).count() as u64;
        assert_eq!(verifier.counts().busy.load(Ordering::Relaxed), busy);
        assert_eq!(verifier.counts().runs.load(Ordering::Relaxed), 9 - busy);
    }
}

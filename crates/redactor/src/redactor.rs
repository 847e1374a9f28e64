//! The shared, growable set of values, and its builder.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use secrecy::{ExposeSecret, SecretString};

use crate::encoding::{Encoder, Encoding};
use crate::matcher::Matcher;
use crate::needles::{DEFAULT_ENCODE_MIN_LEN, DEFAULT_MIN_LEN, NeedleSet, Policy};
use crate::scrubber::Scrubber;
use crate::{Error, ErrorKind};

/// What an occurrence is replaced with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mask {
    /// `***` (the default).
    #[default]
    Stars,
    /// `[secrets.NAME]`, with the name of the value found. Where occurrences of several values
    /// overlap, the one that starts first (the longest, among those starting together) names
    /// the mask.
    Name,
    /// Any fixed text. It is written as is and never scanned.
    Fixed(String),
}

/// Options and initial values of a [`Redactor`]; see [`Redactor::builder`].
#[derive(Debug)]
pub struct RedactorBuilder {
    mask: Mask,
    min_len: usize,
    encode_min_len: usize,
    encodings: Vec<Encoding>,
    extra: Vec<Arc<dyn Encoder>>,
    values: Vec<(String, SecretString)>,
}

impl RedactorBuilder {
    /// The mask; default [`Mask::Stars`].
    pub fn mask(&mut self, mask: Mask) -> &mut Self {
        self.mask = mask;
        self
    }

    /// Values (trimmed) shorter than this many bytes are not masked but reported by
    /// [`Redactor::too_short`]; default 4. Values under 4 bytes are never masked whatever this
    /// says: masking `a` everywhere would destroy the log and reveal the value.
    pub fn min_len(&mut self, bytes: usize) -> &mut Self {
        self.min_len = bytes.max(DEFAULT_MIN_LEN);
        self
    }

    /// Values (and lines of multi-line values, and string leaves of JSON values) of at least
    /// this many bytes also register their encodings and are split into lines; default 8. Never
    /// under 4.
    pub fn encode_min_len(&mut self, bytes: usize) -> &mut Self {
        self.encode_min_len = bytes.max(DEFAULT_MIN_LEN);
        self
    }

    /// The built-in encodings to register; default [`Encoding::ALL`]. `&[]` masks raw values
    /// (and the line forms of multi-line values) only.
    pub fn encodings(&mut self, encodings: &[Encoding]) -> &mut Self {
        self.encodings = encodings.to_vec();
        self
    }

    /// Adds an encoder of one's own to the list.
    pub fn encoder(&mut self, encoder: impl Encoder + 'static) -> &mut Self {
        self.extra.push(Arc::new(encoder));
        self
    }

    /// Adds a named value to mask.
    pub fn value(&mut self, name: &str, value: &SecretString) -> &mut Self {
        self.values.push((name.to_owned(), value.clone()));
        self
    }

    /// Builds the redactor.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidName`] when a name is empty or holds whitespace or control
    /// characters (names appear in masks and reports).
    pub fn build(&self) -> Result<Redactor, Error> {
        let mut encoders: Vec<Arc<dyn Encoder>> = self
            .encodings
            .iter()
            .map(|e| Arc::new(*e) as Arc<dyn Encoder>)
            .collect();
        encoders.extend(self.extra.iter().cloned());
        let policy = Policy {
            min_len: self.min_len,
            encode_min_len: self.encode_min_len,
            encoders,
        };
        let mut set = NeedleSet::default();
        for (name, value) in &self.values {
            check_name(name)?;
            set.add_value(&policy, name, value.expose_secret());
        }
        let matcher = Arc::new(Matcher::new(&set));
        Ok(Redactor {
            shared: Arc::new(Shared {
                policy,
                mask: Arc::new(self.mask.clone()),
                state: RwLock::new(State { set, matcher }),
                generation: AtomicU64::new(0),
                writers: Mutex::new(()),
            }),
        })
    }
}

fn check_name(name: &str) -> Result<(), Error> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::new(ErrorKind::InvalidName {
            name: name.escape_debug().to_string(),
        }));
    }
    Ok(())
}

struct State {
    set: NeedleSet,
    matcher: Arc<Matcher>,
}

struct Shared {
    policy: Policy,
    mask: Arc<Mask>,
    state: RwLock<State>,
    /// Bumped after each growth; writers compare it with theirs on every write.
    generation: AtomicU64,
    /// Serialises growth.
    writers: Mutex<()>,
}

/// A set of named values to mask, shared by every stream that scrubs them.
///
/// Cheap to clone (one `Arc`), `Send + Sync`. The set can grow with [`Redactor::add_values`]
/// while streams are open: each stream picks the new set up at its next write, and re-examines
/// the bytes it holds back under it, so nothing in flight is lost or leaks. (Bytes a stream
/// already released before the growth were released under the old set.)
///
/// How it works: the searchable form of the set (a `Matcher`) is immutable and held in an
/// `Arc` behind a lock, with a generation counter beside it. A writer keeps its own `Arc` and
/// generation, and on each write compares generations with one atomic load; only when they
/// differ does it take the lock to fetch the new `Arc`.
#[derive(Clone)]
pub struct Redactor {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.state.read().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("Redactor")
            .field("needles", &state.matcher.needle_count())
            .field("too_short", &state.set.too_short)
            .field("mask", &*self.shared.mask)
            .finish_non_exhaustive()
    }
}

/// Sizes of the current set, for reports and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Needles: distinct byte strings (and multi-line forms) searched for.
    pub needles: usize,
    /// Heap bytes of the search structures and needles (approximate, from capacities).
    pub memory: usize,
    /// The most bytes a stream may hold back.
    pub max_hold: usize,
}

impl Redactor {
    /// A builder with the default options and no values.
    pub fn builder() -> RedactorBuilder {
        RedactorBuilder {
            mask: Mask::Stars,
            min_len: DEFAULT_MIN_LEN,
            encode_min_len: DEFAULT_ENCODE_MIN_LEN,
            encodings: Encoding::ALL.to_vec(),
            extra: Vec::new(),
            values: Vec::new(),
        }
    }

    /// Adds values to the set; every stream uses them from its next write on.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidName`] as for [`RedactorBuilder::build`]; nothing is added then.
    pub fn add_values<'a>(
        &self,
        values: impl IntoIterator<Item = (&'a str, &'a SecretString)>,
    ) -> Result<(), Error> {
        let values: Vec<_> = values.into_iter().collect();
        for (name, _) in &values {
            check_name(name)?;
        }
        let _growth = self
            .shared
            .writers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut set = self.read().set.clone();
        for (name, value) in values {
            set.add_value(&self.shared.policy, name, value.expose_secret());
        }
        let matcher = Arc::new(Matcher::new(&set));
        *self.shared.state.write().unwrap_or_else(|e| e.into_inner()) = State { set, matcher };
        self.shared.generation.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// Names of values that were not masked because they are too short, once each, in the order
    /// they were added.
    pub fn too_short(&self) -> Vec<String> {
        self.read().set.too_short.clone()
    }

    /// Sizes of the current set.
    pub fn stats(&self) -> Stats {
        let matcher = self.matcher().1;
        Stats {
            needles: matcher.needle_count(),
            memory: matcher.memory_usage(),
            max_hold: matcher.max_hold,
        }
    }

    /// Masks every occurrence in an in-memory buffer.
    ///
    /// ```
    /// # use sigil_redactor::Redactor;
    /// # use secrecy::SecretString;
    /// let redactor = Redactor::builder().value("pw", &SecretString::from("hunter2")).build()?;
    /// assert_eq!(redactor.redact(b"login pw=hunter2 ok"), b"login pw=*** ok");
    /// # Ok::<(), sigil_redactor::Error>(())
    /// ```
    pub fn redact(&self, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(input.len());
        self.redact_to(input, &mut out);
        out
    }

    /// Masks every occurrence in `input`, appending the result to `out` (a buffer one can
    /// reuse: a fresh allocation as large as the input costs page faults that dwarf the search).
    pub fn redact_to(&self, input: &[u8], out: &mut Vec<u8>) {
        // In pieces small enough to stay in the first-level cache between the scan and the
        // copy, together with the output they are copied to, which the scan claims for writing
        // as it goes (see `Matcher::scan`). The whole input at once would be read from memory
        // twice; 64 KiB pieces took 7-10% longer on the bench's 256 MiB and 20-29% longer in
        // cache (`benches/README.md`). The stream's output does not depend on the pieces.
        const PIECE: usize = 8 << 10;
        let mut scrubber = self.scrubber();
        out.reserve(input.len());
        for piece in input.chunks(PIECE) {
            scrubber
                .push(piece, out)
                .expect("writing to a Vec cannot fail");
        }
        scrubber.finish(out).expect("writing to a Vec cannot fail");
    }

    /// Every literal needle searched for (the values and their forms; not the whitespace-run
    /// forms of multi-line values), in registration order. This exposes the values: it exists
    /// for baselines and tests that must search for exactly the same byte strings.
    pub fn expose_needles(&self) -> Vec<crate::SecretBytes> {
        self.matcher()
            .1
            .literals
            .iter()
            .map(|l| l.bytes.clone())
            .collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.shared.state.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The current generation and matcher. The generation is loaded first: if growth happens
    /// in between, the matcher is newer than the generation says and the next check refreshes
    /// it again, which is harmless.
    pub(crate) fn matcher(&self) -> (u64, Arc<Matcher>) {
        let generation = self.shared.generation.load(Ordering::Acquire);
        (generation, self.read().matcher.clone())
    }

    pub(crate) fn generation(&self) -> u64 {
        self.shared.generation.load(Ordering::Acquire)
    }

    pub(crate) fn scrubber(&self) -> Scrubber {
        Scrubber::new(self.matcher().1, self.shared.mask.clone())
    }
}

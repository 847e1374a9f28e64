//! The streaming core shared by every adapter: input in arbitrary pieces, masked output out.
//!
//! State between writes: the `carry` (bytes held back), the partial matches that start in it
//! (those of its last byte may be made only at the next write: `last_byte_held`), and the
//! complete occurrences already found in it. A write appends the input *virtually* (the input
//! is never copied into the carry, except for what will be held back next):
//!
//! 1. the partial matches from the carry are advanced over the input; each one that completes
//!    is an occurrence starting in the carry;
//! 2. the gram index scans the input alone for occurrences lying wholly inside it;
//! 3. partial matches are started at the input positions within `max_hold` of its end: those up
//!    to the scan's last window are named by the windows step 2 tests anyway (see
//!    `Hits::starts`), the few after it (fewer than `L`) are tested one by one;
//! 4. occurrences are sorted by start (longest first) and merged into intervals where they
//!    overlap (adjacent ones stay apart);
//! 5. the release point is the start of the oldest live partial match; everything before is
//!    written, a mask for each interval that starts before it. An interval that straddles it
//!    gets its mask now, and the bytes after the release point that it covers are remembered
//!    (`covered`): they stay in the carry but are never written, and a later occurrence that
//!    starts among them only extends them.
//!
//! Why this equals masking the whole stream at once: every occurrence that ends by the current
//! end was found in step 1 or 2; every occurrence that ends later starts at a live partial
//! match, so at or after the release point. An interval that starts before the release point
//! therefore has its final start and its final first occurrence (which names the mask); only
//! its end can still grow, by occurrences that start before that end, exactly as the union over
//! the whole stream would grow it. The tests check this against a brute-force model under
//! random chunkings.
//!
//! Writing a straddling interval's mask at once also bounds the carry: a long run of
//! overlapping occurrences (a value such as `xxxxxxxx` in a line of `x`) is masked as it comes,
//! holding back no more than any other stream.

use std::io;
use std::mem::MaybeUninit;
use std::sync::Arc;

use crate::Mask;
use crate::encoding::SecretBytes;
use crate::matcher::{Hits, Matcher, Occurrence, Partial};

/// Where masked output goes.
pub(crate) trait Sink {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()>;

    /// The memory the next bytes put will be copied to, when the sink owns it (a `Vec`'s spare
    /// capacity); empty otherwise. The scan writes to it ahead of the copy (see
    /// [`Matcher::scan`]); what it writes there is never read.
    fn destination(&mut self) -> &mut [MaybeUninit<u8>] {
        &mut []
    }
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.extend_from_slice(bytes);
        Ok(())
    }
    fn destination(&mut self) -> &mut [MaybeUninit<u8>] {
        self.spare_capacity_mut()
    }
}

/// The carry followed by the input, without copying them together.
struct Joined<'a> {
    carry: &'a [u8],
    input: &'a [u8],
}

impl Joined<'_> {
    fn len(&self) -> usize {
        self.carry.len() + self.input.len()
    }
    fn put_range(&self, sink: &mut impl Sink, from: usize, to: usize) -> io::Result<()> {
        let c = self.carry.len();
        if from < c {
            sink.put(&self.carry[from..to.min(c)])?;
        }
        if to > c {
            sink.put(&self.input[from.max(c) - c..to - c])?;
        }
        Ok(())
    }
}

/// Streaming state of one output stream.
pub(crate) struct Scrubber {
    pub(crate) matcher: Arc<Matcher>,
    mask: Arc<Mask>,
    carry: SecretBytes,
    /// Live partial matches, positions relative to the carry's start.
    partials: Vec<Partial>,
    /// The carry's last byte begins some needle, and its partial matches are not made yet:
    /// most die at the next byte, which the pair filter tells (see `stage`). A write often
    /// ends on such a byte.
    last_byte_held: bool,
    /// Complete occurrences inside the carry.
    found: Vec<Occurrence>,
    /// The carry's first bytes that lie inside an interval whose mask is already written: they
    /// are never written, and an occurrence starting among them extends them.
    covered: usize,
    scratch: Vec<Partial>,
    /// Scratch: the partial matches started at one position.
    fresh: Vec<Partial>,
    /// Scratch: input positions where a partial match may start.
    starts: Vec<usize>,
    occurrences: Vec<Occurrence>,
    /// Merged occurrences of the current write: (start, end, id of the first).
    intervals: Vec<(usize, usize, u32)>,
}

impl Scrubber {
    pub(crate) fn new(matcher: Arc<Matcher>, mask: Arc<Mask>) -> Scrubber {
        Scrubber {
            matcher,
            mask,
            carry: SecretBytes::new(Vec::new()),
            partials: Vec::new(),
            last_byte_held: false,
            found: Vec::new(),
            covered: 0,
            scratch: Vec::new(),
            fresh: Vec::new(),
            starts: Vec::new(),
            occurrences: Vec::new(),
            intervals: Vec::new(),
        }
    }

    /// Bytes held back: the longest tail that could still begin an occurrence.
    pub(crate) fn held(&self) -> usize {
        self.carry.len()
    }

    /// Switches to a grown set of values. The carry is examined again under the new set, as if
    /// it had just been written.
    pub(crate) fn replace_matcher(&mut self, matcher: Arc<Matcher>) {
        self.matcher = matcher;
        self.partials.clear();
        self.last_byte_held = false;
        self.found.clear();
        let carry = std::mem::replace(&mut self.carry, SecretBytes::new(Vec::new()));
        // Staged as if written to an empty stream, then kept whole: the next write releases
        // whatever the new set no longer needs to hold.
        self.stage(&carry, &mut []);
        self.found = std::mem::take(&mut self.occurrences);
        self.carry = carry;
    }

    /// Feeds `input`; writes what is safe to `sink`.
    pub(crate) fn push(&mut self, input: &[u8], sink: &mut impl Sink) -> io::Result<()> {
        // The input's bytes go out after whatever the carry releases first.
        let destination = sink.destination();
        let ahead = self.carry.len().saturating_sub(self.covered);
        let destination = destination.get_mut(ahead..).unwrap_or_default();
        self.stage(input, destination);
        if !self.occurrences.is_empty() {
            return self.release(input, sink, false);
        }
        // Nothing found, as in most writes: everything before the oldest live partial match
        // goes out as it is. This is what `release` does then, without the sorting and merging
        // that a stream of small writes would pay on every one.
        let release = self.oldest_live(self.carry.len() + input.len());
        Joined {
            carry: &self.carry,
            input,
        }
        .put_range(sink, self.covered.min(release), release)?;
        self.covered = self.covered.saturating_sub(release);
        self.keep_from(input, release);
        Ok(())
    }

    /// Ends the stream: writes everything held, partial occurrences as they are.
    pub(crate) fn finish(&mut self, sink: &mut impl Sink) -> io::Result<()> {
        self.occurrences.clear();
        self.occurrences.extend_from_slice(&self.found);
        self.release(&[], sink, true)
    }

    /// Steps 1 to 3 of the module docs: `occurrences` and `partials` for carry + input. The
    /// input is not yet appended to the carry.
    ///
    /// Step 2 runs first. The write's bytes are usually not in cache yet, and the scan's loads
    /// do not depend on one another, so the processor keeps several of its misses in flight;
    /// advancing a carried partial match first would wait on the first miss alone, byte after
    /// byte.
    fn stage(&mut self, input: &[u8], destination: &mut [MaybeUninit<u8>]) {
        let matcher = &*self.matcher;
        let c = self.carry.len();
        self.occurrences.clear();
        if !self.found.is_empty() {
            self.occurrences.extend_from_slice(&self.found);
        }
        // 2. Occurrences wholly inside the input; and, from the same windows, the starts of
        //    needles that may run past its end, up to the last window tested.
        let total = c + input.len();
        let from = c.max(total.saturating_sub(matcher.max_hold));
        self.starts.clear();
        let covered = matcher.scan(
            input,
            &mut Hits {
                base: c,
                occurrences: &mut self.occurrences,
                starts: from - c..input.len(),
                start_list: &mut self.starts,
            },
            destination,
        );
        // 1. Partial matches from the carry, advanced over the input. Those of a held last
        //    byte are made first, unless the input's first byte already rules them out.
        if self.last_byte_held
            && let (Some(&last), Some(&next)) = (self.carry.last(), input.first())
        {
            self.last_byte_held = false;
            if matcher.pair_may_begin(last, next) {
                matcher.start_partials(c - 1, last, &mut self.partials);
            }
        }
        self.scratch.clear();
        for &partial in &self.partials {
            let mut partial = partial;
            let mut consumed = c - partial.start();
            let mut alive = true;
            for &byte in input {
                if !matcher.advance(&mut partial, consumed, byte) {
                    alive = false;
                    break;
                }
                consumed += 1;
                if let Some(occurrence) = matcher.completed(&partial, consumed) {
                    self.occurrences.push(occurrence);
                }
                if !matcher.is_live(&partial, consumed) {
                    alive = false;
                    break;
                }
            }
            if alive {
                self.scratch.push(partial);
            }
        }
        // 3. New partial matches: at the starts above, and at every position after the scan's
        //    last window (fewer than `L`) that may start a needle.
        matcher.near_starts(input, from.max(c + covered) - c, &mut self.starts);
        if self.starts.len() > 1 {
            self.starts.sort_unstable();
            self.starts.dedup();
        }
        for &start in &self.starts {
            if start + 1 == input.len() {
                // The last byte: its partial matches wait for the next write (see
                // `last_byte_held`); a partial match of one byte is live, every needle is longer.
                self.last_byte_held = true;
                continue;
            }
            self.fresh.clear();
            matcher.start_partials(c + start, input[start], &mut self.fresh);
            for &partial in &self.fresh {
                let mut partial = partial;
                let mut consumed = 1;
                let mut alive = matcher.is_live(&partial, consumed);
                for &byte in &input[start + 1..] {
                    if !alive {
                        break;
                    }
                    if !matcher.advance(&mut partial, consumed, byte) {
                        alive = false;
                        break;
                    }
                    consumed += 1;
                    alive = matcher.is_live(&partial, consumed);
                }
                if alive {
                    self.scratch.push(partial);
                }
            }
        }
        std::mem::swap(&mut self.partials, &mut self.scratch);
    }

    /// Steps 4 and 5: writes up to the release point, keeps the rest as the new carry.
    fn release(&mut self, input: &[u8], sink: &mut impl Sink, end: bool) -> io::Result<()> {
        self.occurrences.sort_unstable();
        let joined = Joined {
            carry: &self.carry,
            input,
        };
        let total = joined.len();
        let release = if end { total } else { self.oldest_live(total) };
        // Merge into intervals, the covered bytes first: occurrences starting among them
        // extend them, and get no mask of their own.
        let mut covered = self.covered;
        let mut intervals = std::mem::take(&mut self.intervals);
        intervals.clear();
        for occurrence in &self.occurrences {
            match intervals.last_mut() {
                Some(last) if occurrence.start < last.1 => last.1 = last.1.max(occurrence.end()),
                None if occurrence.start < covered => covered = covered.max(occurrence.end()),
                _ => intervals.push((occurrence.start, occurrence.end(), occurrence.id)),
            }
        }
        // Every interval that starts before the release point gets its mask; the last one may
        // run past it.
        let mut at = covered;
        for &(start, stop, id) in intervals.iter().take_while(|i| i.0 < release) {
            joined.put_range(sink, at, start)?;
            self.put_mask(sink, id)?;
            at = stop;
        }
        joined.put_range(sink, at.min(release), release)?;
        self.covered = at.saturating_sub(release);
        self.found.clear();
        self.found.extend(
            self.occurrences
                .iter()
                .filter(|o| o.start >= at.max(release))
                .map(|o| Occurrence::new(o.start - release, o.end() - release, o.id)),
        );
        self.intervals = intervals;
        if end {
            self.partials.clear();
            self.last_byte_held = false;
            self.covered = 0;
        }
        self.keep_from(input, release);
        Ok(())
    }

    /// The start of the oldest live partial match (the held last byte included) among `total`
    /// bytes of carry and input, or `total` when there is none.
    fn oldest_live(&self, total: usize) -> usize {
        let oldest = self.partials.iter().map(Partial::start).min();
        match oldest {
            Some(start) => start,
            None if self.last_byte_held => total - 1,
            None => total,
        }
    }

    /// Keeps carry + input from `release` on as the new carry, in place when the carry is not
    /// released whole (one byte per write), and moves the live partial matches onto it.
    fn keep_from(&mut self, input: &[u8], release: usize) {
        let c = self.carry.len();
        if release >= c {
            self.carry.clear();
            append(&mut self.carry, &input[release - c..]);
        } else {
            self.carry.drain(..release);
            append(&mut self.carry, input);
        }
        for partial in &mut self.partials {
            partial.rebase(release);
        }
    }

    fn put_mask(&self, sink: &mut impl Sink, id: u32) -> io::Result<()> {
        match &*self.mask {
            Mask::Stars => sink.put(b"***"),
            Mask::Name => {
                sink.put(b"[secrets.")?;
                sink.put(self.matcher.name(id).as_bytes())?;
                sink.put(b"]")
            }
            Mask::Fixed(text) => sink.put(text.as_bytes()),
        }
    }
}

/// Appends to a zeroizing buffer without leaving a copy behind in a freed allocation: when the
/// buffer must grow, its bytes move to a new one and the old one is zeroed as it drops.
fn append(buffer: &mut SecretBytes, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    if buffer.capacity() - buffer.len() < bytes.len() {
        let capacity = (buffer.len() + bytes.len())
            .max(buffer.capacity() * 2)
            .max(64);
        let mut grown = SecretBytes::new(Vec::with_capacity(capacity));
        grown.extend_from_slice(buffer);
        *buffer = grown;
    }
    buffer.extend_from_slice(bytes);
}

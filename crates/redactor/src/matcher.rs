//! Finding every occurrence of every needle, fast, whatever the number of needles.
//!
//! Two structures, built once per set of values:
//!
//! - **The gram index** finds complete occurrences. Every needle is at least `L` bytes long (the
//!   shortest needle of the set, never under 4). Take `G` = 8 when `L >= 16` and the set has
//!   more than 1,024 literal needles, else 4, and the
//!   stride `S = L - G + 1`. Any occurrence of a needle contains, at some position `p` that is a
//!   multiple of `S`, a window of `G` bytes lying wholly inside it, at offset `p - start < S`.
//!   So the index registers, for each needle, its `G`-byte windows at offsets `0..S`; the scan
//!   reads one `G`-byte window every `S` bytes of the haystack, tests one bit of a hashed bitmap
//!   (at most 1 MiB, so it stays in cache), and only on a hit looks the window up exactly and
//!   compares the candidate needles. Each occurrence is found exactly once. The cost per byte
//!   falls as the needles get longer and barely moves with their number: the bitmap's density
//!   is what grows, and it is kept low (about 1% at 1,000 secrets).
//! - **The prefix walk** tracks occurrences that may continue past the end of the bytes seen so
//!   far, for streaming: needles sorted by bytes, so the needles sharing a prefix are a range,
//!   narrowed by binary search one byte at a time. A partial match is live while its range still
//!   holds a needle longer than what matched. The hold-back of a stream is exactly the longest
//!   live partial match.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::mem::MaybeUninit;
use std::sync::Arc;

use crate::needles::{Flexible, Literal, MAX_WHITESPACE_RUN, NeedleSet};

/// Multiplier of the window hash (the 64-bit golden ratio, Fibonacci hashing).
const HASH_MUL: u64 = 0x9E37_79B9_7F4A_7C15;
/// The same for 4-byte windows (the 32-bit golden ratio).
const HASH_MUL_32: u32 = 0x9E37_79B9;
/// Ids with this bit set are flexible (multi-line) needles.
const FLEX: u32 = 1 << 31;

/// One occurrence: `start..end` of the needle `id` (flexible ids carry [`FLEX`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Occurrence {
    pub(crate) start: usize,
    /// Ordering key: longer first at the same start.
    pub(crate) neg_end: isize,
    pub(crate) id: u32,
}

impl Occurrence {
    pub(crate) fn new(start: usize, end: usize, id: u32) -> Self {
        Occurrence {
            start,
            neg_end: -(end as isize),
            id,
        }
    }
    pub(crate) fn end(&self) -> usize {
        (-self.neg_end) as usize
    }
}

/// A match that has consumed bytes up to the current end and may still complete.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Partial {
    /// Needles `sorted[lo..hi]` all start with the matched bytes.
    Literal { start: usize, lo: u32, hi: u32 },
    /// Inside flexible needle `id`: `offset` bytes of segment `segment` matched, then `run`
    /// whitespace bytes (only when the segment is complete).
    Flexible {
        start: usize,
        id: u32,
        segment: u32,
        offset: u32,
        run: u32,
    },
}

impl Partial {
    pub(crate) fn start(&self) -> usize {
        match *self {
            Partial::Literal { start, .. } | Partial::Flexible { start, .. } => start,
        }
    }
    pub(crate) fn rebase(&mut self, by: usize) {
        match self {
            Partial::Literal { start, .. } | Partial::Flexible { start, .. } => *start -= by,
        }
    }
}

/// A `Hasher` for keys that are already well mixed `u64` windows.
#[derive(Default)]
struct WindowHasher(u64);

impl Hasher for WindowHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(HASH_MUL);
        }
    }
    fn write_u64(&mut self, key: u64) {
        self.0 = key.wrapping_mul(HASH_MUL);
    }
}

/// Where [`Matcher::scan`] reports.
pub(crate) struct Hits<'a> {
    /// Added to every occurrence's positions.
    pub(crate) base: usize,
    pub(crate) occurrences: &'a mut Vec<Occurrence>,
    /// Input positions (not offset by `base`) where the caller wants to know every start the
    /// windows name, whether or not the needle fits in the input: candidates for partial
    /// matches that run past its end (see [`Matcher::start_partials`]). Pushed to `start_list`,
    /// possibly more than once.
    ///
    /// A needle prefix starting at `p` holds, at the first multiple `q` of the stride at or
    /// after `p`, a window at offset `q - p`, under the stride: one the index registered. When
    /// the scan tested the window at `q` (it lies wholly in the input), that test names `p`. So
    /// the windows the scan tests anyway name every start up to its last window (what
    /// [`Matcher::scan`] returns); only the positions after it, fewer than `L`, need
    /// [`Matcher::near_starts`].
    pub(crate) starts: std::ops::Range<usize>,
    pub(crate) start_list: &'a mut Vec<usize>,
}

/// The searchable form of a [`NeedleSet`]. Immutable; a grown set builds a new one.
pub(crate) struct Matcher {
    pub(crate) literals: Vec<Arc<Literal>>,
    pub(crate) flexibles: Vec<Arc<Flexible>>,
    gram: usize,
    stride: usize,
    bitmap: Vec<u64>,
    /// Window -> range of `entries`.
    windows: HashMap<u64, (u32, u32), BuildHasherDefault<WindowHasher>>,
    /// (needle id, offset of the window in the needle).
    entries: Vec<(u32, u32)>,
    /// Literal ids sorted by their bytes.
    sorted: Vec<u32>,
    /// The bytes of `sorted[i]` are `arena[spans[i].0..][..spans[i].1]`: one contiguous copy,
    /// so the binary searches of the prefix walk stay in cache.
    spans: Vec<(u32, u32)>,
    arena: crate::SecretBytes,
    /// For each first byte, the range of `sorted` starting with it.
    first: Vec<(u32, u32)>,
    /// For each first byte, the flexible ids whose first segment starts with it.
    flex_first: Vec<Vec<u32>>,
    /// Hashed (length, prefix) of every needle prefix shorter than a window: the filter of
    /// [`Matcher::may_start`] for the last few bytes of a write.
    short_prefixes: Vec<u64>,
    /// First two bytes of every needle, one bit per pair (8 KiB): the first, cheapest filter.
    pairs: Box<[u64; 1 << 10]>,
    /// First byte of every needle, one bit per byte: the filter of a write's last position.
    first_bytes: [u64; 4],
    /// The longest a live partial match can be: bytes a stream may hold back.
    pub(crate) max_hold: usize,
}

impl Matcher {
    pub(crate) fn new(set: &NeedleSet) -> Matcher {
        let literals = set.literals.clone();
        let flexibles = set.flexibles.clone();
        let min_len = literals
            .iter()
            .map(|l| l.bytes.len())
            .chain(flexibles.iter().map(|f| f.segments[0].len()))
            .min()
            .unwrap_or(8);
        let gram = if min_len >= 16 && literals.len() > 1024 {
            8
        } else {
            4
        };
        let stride = min_len - gram + 1;

        let mut pairs: Vec<(u64, u32, u32)> = Vec::new();
        let anchors = literals
            .iter()
            .enumerate()
            .map(|(id, l)| (id as u32, &l.bytes[..]))
            .chain(
                flexibles
                    .iter()
                    .enumerate()
                    .map(|(id, f)| (id as u32 | FLEX, &f.segments[0][..])),
            );
        for (id, bytes) in anchors {
            for offset in 0..stride {
                pairs.push((window(&bytes[offset..], gram), id, offset as u32));
            }
        }
        pairs.sort_unstable();
        // About 32 bits per window, between 4 KiB and 1 MiB of bitmap.
        let bits = (pairs.len() * 32)
            .next_power_of_two()
            .clamp(1 << 15, 1 << BITMAP_MAX_BITS);
        let mut bitmap = vec![0u64; bits / 64];
        let mut windows = HashMap::default();
        let mut entries = Vec::with_capacity(pairs.len());
        let mut i = 0;
        while i < pairs.len() {
            let key = pairs[i].0;
            let begin = entries.len() as u32;
            while i < pairs.len() && pairs[i].0 == key {
                entries.push((pairs[i].1, pairs[i].2));
                i += 1;
            }
            windows.insert(key, (begin, entries.len() as u32));
            let (word, bit) = bitmap_slot(key, gram, bitmap.len());
            bitmap[word] |= bit;
        }

        let mut sorted: Vec<u32> = (0..literals.len() as u32).collect();
        sorted
            .sort_unstable_by(|&a, &b| literals[a as usize].bytes.cmp(&literals[b as usize].bytes));
        let mut arena = crate::SecretBytes::new(Vec::with_capacity(
            literals.iter().map(|l| l.bytes.len()).sum(),
        ));
        let mut spans = Vec::with_capacity(sorted.len());
        for &id in &sorted {
            let bytes = &literals[id as usize].bytes;
            spans.push((arena.len() as u32, bytes.len() as u32));
            arena.extend_from_slice(bytes);
        }
        let mut short_prefixes = vec![0u64; SHORT_PREFIX_BITS / 64];
        let anchors = literals
            .iter()
            .map(|l| &l.bytes[..])
            .chain(flexibles.iter().map(|f| &f.segments[0][..]));
        for bytes in anchors {
            for len in 1..gram.min(bytes.len()) {
                let h = short_prefix_hash(&bytes[..len]);
                short_prefixes[h >> 6] |= 1 << (h & 63);
            }
        }
        let mut pairs = Box::new([0u64; 1 << 10]);
        let anchors = literals
            .iter()
            .map(|l| &l.bytes[..])
            .chain(flexibles.iter().map(|f| &f.segments[0][..]));
        let mut first_bytes = [0u64; 4];
        for bytes in anchors {
            let pair = usize::from(u16::from_le_bytes([bytes[0], bytes[1]]));
            pairs[pair >> 6] |= 1 << (pair & 63);
            first_bytes[usize::from(bytes[0] >> 6)] |= 1 << (bytes[0] & 63);
        }
        let mut first = vec![(0u32, 0u32); 256];
        for (byte, range) in first.iter_mut().enumerate() {
            let lo =
                sorted.partition_point(|&id| usize::from(literals[id as usize].bytes[0]) < byte);
            let hi =
                sorted.partition_point(|&id| usize::from(literals[id as usize].bytes[0]) <= byte);
            *range = (lo as u32, hi as u32);
        }
        let mut flex_first = vec![Vec::new(); 256];
        for (id, f) in flexibles.iter().enumerate() {
            flex_first[usize::from(f.segments[0][0])].push(id as u32);
        }
        let max_hold = literals
            .iter()
            .map(|l| l.bytes.len())
            .chain(flexibles.iter().map(|f| f.max_len()))
            .max()
            .unwrap_or(1)
            - 1;
        Matcher {
            literals,
            flexibles,
            gram,
            stride,
            bitmap,
            windows,
            entries,
            sorted,
            spans,
            arena,
            first,
            flex_first,
            short_prefixes,
            pairs,
            first_bytes,
            max_hold,
        }
    }

    /// Number of needles (literal and flexible).
    pub(crate) fn needle_count(&self) -> usize {
        self.literals.len() + self.flexibles.len()
    }

    /// Heap bytes used by the search structures and the needles.
    pub(crate) fn memory_usage(&self) -> usize {
        let needles: usize = self
            .literals
            .iter()
            .map(|l| l.bytes.len() + 48)
            .sum::<usize>()
            + self
                .flexibles
                .iter()
                .map(|f| f.segments.iter().map(|s| s.len() + 24).sum::<usize>() + 48)
                .sum::<usize>();
        needles
            + self.bitmap.len() * 8
            + self.windows.capacity() * 24
            + self.entries.len() * 8
            + self.sorted.len() * 12
            + self.arena.capacity()
            + self.first.len() * 8
            + self
                .flex_first
                .iter()
                .map(|v| v.len() * 4 + 24)
                .sum::<usize>()
            + self.short_prefixes.len() * 8
            + self.pairs.len() * 8
    }

    /// The name of the value a needle came from.
    pub(crate) fn name(&self, id: u32) -> &str {
        if id & FLEX != 0 {
            &self.flexibles[(id & !FLEX) as usize].name
        } else {
            &self.literals[id as usize].name
        }
    }

    /// Reports to `hits` every occurrence lying wholly inside `hay`, in no set order, and the
    /// starts in its range where a needle may begin (see [`Hits::starts`]). Returns how many
    /// leading positions of `hay` those starts cover: one past the last window tested.
    ///
    /// `destination` is where the caller will copy `hay` after the scan, or empty. When it is as
    /// long as `hay`, the scan writes a byte there at the start of every chunk of four strides,
    /// so that the copy finds the destination's lines in cache and already claimed for writing.
    /// A store to a line that is not in cache must first read it from memory; issued during the
    /// scan, those reads overlap with the scan's work, while the copy would wait on them.
    /// (Chunks longer than a line skip some lines; a second store per chunk, which reaches every
    /// line up to a stride of 32, gained nothing.)
    pub(crate) fn scan(
        &self,
        hay: &[u8],
        hits: &mut Hits<'_>,
        destination: &mut [MaybeUninit<u8>],
    ) -> usize {
        if self.needle_count() == 0 || hay.len() < self.gram {
            return 0;
        }
        // A loop of its own for each case: the stores' operands would otherwise take two of
        // the loop's registers in streams too, which have no destination (2-4% slower streams).
        let next = match (self.gram, destination.get_mut(..hay.len())) {
            (8, Some(destination)) => self.scan_windows::<8, true>(hay, hits, destination),
            (8, None) => self.scan_windows::<8, false>(hay, hits, &mut []),
            (_, Some(destination)) => self.scan_windows::<4, true>(hay, hits, destination),
            (_, None) => self.scan_windows::<4, false>(hay, hits, &mut []),
        };
        next - self.stride + 1
    }

    // The scan of [`Matcher::scan`] tests a window of `G` bytes at every multiple of the stride,
    // in order: one stream of loads, which the hardware prefetcher follows. The positions whose
    // whole stride lies inside the input are read as chunks of four strides: each is known to
    // hold its four windows (the stride is at least `G`), so the loop has no bounds checks, and
    // its own counting is paid once for four windows. The last few positions go through
    // `scan_tail`.
    //
    // A hit calls `verify`, which is marked cold: the compiler then saves registers around that
    // rare call instead of keeping the loop's values on the stack and reloading them for every
    // window (11-12% fewer instructions in memory, 7-8% streamed). With that, one lane beats
    // the four interleaved lanes this scan used for large inputs before, in cache at every set
    // and on input not in cache from 8 secrets up; four lanes kept more misses in flight only
    // at 1 secret, whose scan has the least work per byte (`benches/README.md`).
    //
    // With `CLAIM`, the loop also stores to `destination`, as long as `hay`: a store and its
    // bounds check per chunk (the compiler does not derive the check from the chunk's own).

    /// Tests every window of `hay` at a multiple of the stride; returns the next multiple.
    #[inline(never)]
    fn scan_windows<const G: usize, const CLAIM: bool>(
        &self,
        hay: &[u8],
        hits: &mut Hits<'_>,
        destination: &mut [MaybeUninit<u8>],
    ) -> usize {
        let stride = self.stride;
        let mut p = 0;
        if stride >= G {
            // Counted by position, not by `chunks_exact`, whose set-up divides by the step: a
            // division is dozens of cycles, paid on every stream write.
            let step = 4 * stride;
            while let Some(chunk) = hay.get(p..p + step) {
                let (a, rest) = chunk.split_at(stride);
                let (b, rest) = rest.split_at(stride);
                let (c, d) = rest.split_at(stride);
                self.test_window::<G>(hay, p, a, hits);
                self.test_window::<G>(hay, p + stride, b, hits);
                self.test_window::<G>(hay, p + 2 * stride, c, hits);
                self.test_window::<G>(hay, p + 3 * stride, d, hits);
                if CLAIM {
                    destination[p].write(0);
                }
                p += step;
            }
        }
        self.scan_tail::<G>(hay, p, hits)
    }

    /// Tests the positions from `from`, a multiple of the stride, to the last one whose window
    /// fits in `hay`; returns the next multiple.
    fn scan_tail<const G: usize>(&self, hay: &[u8], from: usize, hits: &mut Hits<'_>) -> usize {
        let mut p = from;
        while let Some(window) = hay.get(p..p + G) {
            self.test_window::<G>(hay, p, window, hits);
            p += self.stride;
        }
        p
    }

    /// Tests the window at `p`, whose bytes start `window`.
    #[inline(always)]
    fn test_window<const G: usize>(
        &self,
        hay: &[u8],
        p: usize,
        window: &[u8],
        hits: &mut Hits<'_>,
    ) {
        if self.maybe(window_of::<G>(window), G) {
            self.verify(hay, p, hits);
        }
    }

    #[inline(always)]
    fn maybe(&self, key: u64, gram: usize) -> bool {
        let (word, bit) = bitmap_slot(key, gram, self.bitmap.len());
        self.bitmap[word] & bit != 0
    }

    /// Looks the window at `p` up exactly, and compares the needles it names. The window is
    /// read again here rather than passed in, so the scan loop need not keep it in a register.
    #[cold]
    #[inline(never)]
    fn verify(&self, hay: &[u8], p: usize, hits: &mut Hits<'_>) {
        let key = window(&hay[p..], self.gram);
        let Some(&(begin, end)) = self.windows.get(&key) else {
            return;
        };
        let base = hits.base;
        for &(id, offset) in &self.entries[begin as usize..end as usize] {
            let Some(start) = p.checked_sub(offset as usize) else {
                continue;
            };
            if hits.starts.contains(&start) {
                hits.start_list.push(start);
            }
            let out = &mut *hits.occurrences;
            if id & FLEX != 0 {
                if let Some(end) =
                    self.flexible_at(&self.flexibles[(id & !FLEX) as usize], hay, start)
                {
                    out.push(Occurrence::new(base + start, base + end, id));
                }
            } else {
                let needle = &self.literals[id as usize].bytes;
                if hay.len() - start >= needle.len()
                    && hay[start..start + needle.len()] == needle[..]
                {
                    out.push(Occurrence::new(
                        base + start,
                        base + start + needle.len(),
                        id,
                    ));
                }
            }
        }
    }

    /// The end of an occurrence of `flex` starting at `start`, if one lies wholly inside `hay`.
    fn flexible_at(&self, flex: &Flexible, hay: &[u8], start: usize) -> Option<usize> {
        let mut at = start;
        for (index, segment) in flex.segments.iter().enumerate() {
            if index > 0 {
                let run = hay[at..]
                    .iter()
                    .take_while(|b| b.is_ascii_whitespace())
                    .count();
                if run == 0 || run > MAX_WHITESPACE_RUN {
                    return None;
                }
                at += run;
            }
            if !hay[at..].starts_with(segment) {
                return None;
            }
            at += segment.len();
        }
        Some(at)
    }

    /// Pushes the positions of `hay` from `from` on where some needle may begin, in no set
    /// order and possibly more than once: the positions of a write after the scan's last window,
    /// which its [`Hits::starts`] do not cover, each fewer than `L` bytes before the end.
    ///
    /// The argument of [`Hits::starts`] once more: a needle prefix starting at such a position
    /// and holding at least `G` bytes holds the write's last `G` bytes at an offset under the
    /// stride, a window the index registered. So one more window test, of the last window, names
    /// all of them; only the last `G - 1` positions are tested one by one.
    #[inline]
    pub(crate) fn near_starts(&self, hay: &[u8], from: usize, out: &mut Vec<usize>) {
        debug_assert!(hay.len().saturating_sub(from) < self.stride + self.gram);
        let one_by_one = hay.len().saturating_sub(self.gram - 1).max(from);
        if one_by_one > from {
            let last = hay.len() - self.gram;
            let key = window(&hay[last..], self.gram);
            if self.maybe(key, self.gram) {
                self.name_starts(key, last, from, out);
            }
        }
        for p in one_by_one..hay.len() {
            let may_start = match hay[p..] {
                [byte] => self.first_bytes[usize::from(byte >> 6)] >> (byte & 63) & 1 != 0,
                [a, b, ..] => {
                    self.pair_bit(u16::from_le_bytes([a, b])) & 1 != 0
                        && self.may_continue(&hay[p..])
                }
                [] => false,
            };
            if may_start {
                out.push(p);
            }
        }
    }

    /// Pushes the starts from `from` on that the window `key` at `p` names. Apart from the
    /// rest of [`Matcher::near_starts`]: it runs only on a bitmap hit.
    #[inline(never)]
    fn name_starts(&self, key: u64, p: usize, from: usize, out: &mut Vec<usize>) {
        if let Some(&(begin, end)) = self.windows.get(&key) {
            for &(_, offset) in &self.entries[begin as usize..end as usize] {
                if let Some(start) = p.checked_sub(offset as usize)
                    && start >= from
                {
                    out.push(start);
                }
            }
        }
    }

    /// Whether some needle begins with the two bytes `a b`.
    pub(crate) fn pair_may_begin(&self, a: u8, b: u8) -> bool {
        self.pair_bit(u16::from_le_bytes([a, b])) & 1 != 0
    }

    /// The `pairs` word of two bytes (`u16::from_le_bytes`), shifted so that their bit is the
    /// lowest: odd when some needle begins with them.
    #[inline(always)]
    fn pair_bit(&self, pair: u16) -> u64 {
        let pair = usize::from(pair);
        self.pairs[pair >> 6] >> (pair & 63)
    }

    /// Whether some needle could begin with `tail`, whose first two bytes passed
    /// [`Matcher::pair_bit`], judged by its first window alone: a cheap filter before
    /// [`Matcher::start_partials`]. A tail shorter than a window is looked up whole among the
    /// needles' short prefixes. Apart from its callers: it runs only when the pair filter
    /// passes.
    #[inline(never)]
    fn may_continue(&self, tail: &[u8]) -> bool {
        if tail.len() < self.gram {
            let h = short_prefix_hash(tail);
            return self.short_prefixes[h >> 6] & (1 << (h & 63)) != 0;
        }
        let key = window(tail, self.gram);
        self.maybe(key, self.gram)
            && self.windows.get(&key).is_some_and(|&(begin, end)| {
                self.entries[begin as usize..end as usize]
                    .iter()
                    .any(|&(_, offset)| offset == 0)
            })
    }

    /// Starts the partial matches that begin at `pos` with byte `byte`.
    pub(crate) fn start_partials(&self, pos: usize, byte: u8, out: &mut Vec<Partial>) {
        let (lo, hi) = self.first[usize::from(byte)];
        if lo < hi {
            out.push(Partial::Literal { start: pos, lo, hi });
        }
        for &id in &self.flex_first[usize::from(byte)] {
            out.push(Partial::Flexible {
                start: pos,
                id,
                segment: 0,
                offset: 1,
                run: 0,
            });
        }
    }

    /// Whether a partial match whose last byte is at `pos` (so it has consumed `pos + 1 -
    /// start` bytes) still holds a needle longer than that. A just-started literal partial
    /// has consumed one byte.
    pub(crate) fn is_live(&self, partial: &Partial, consumed: usize) -> bool {
        match *partial {
            Partial::Literal { lo, hi, .. } => {
                hi - lo > 1 || self.spans[lo as usize].1 as usize > consumed
            }
            Partial::Flexible {
                id,
                segment,
                offset,
                ..
            } => {
                let flex = &self.flexibles[id as usize];
                segment as usize + 1 < flex.segments.len()
                    || (offset as usize) < flex.segments[segment as usize].len()
            }
        }
    }

    /// The occurrence completed by a partial that has consumed `consumed` bytes, if any.
    pub(crate) fn completed(&self, partial: &Partial, consumed: usize) -> Option<Occurrence> {
        match *partial {
            Partial::Literal { start, lo, .. } => (self.spans[lo as usize].1 as usize == consumed)
                .then(|| Occurrence::new(start, start + consumed, self.sorted[lo as usize])),
            Partial::Flexible {
                start,
                id,
                segment,
                offset,
                ..
            } => {
                let flex = &self.flexibles[id as usize];
                (segment as usize + 1 == flex.segments.len()
                    && offset as usize == flex.segments[segment as usize].len())
                .then(|| Occurrence::new(start, start + consumed, id | FLEX))
            }
        }
    }

    /// Feeds `byte` to a partial match that has consumed `consumed` bytes; `false` when it dies.
    pub(crate) fn advance(&self, partial: &mut Partial, consumed: usize, byte: u8) -> bool {
        match partial {
            Partial::Literal { lo, hi, .. } => {
                let range = &self.spans[*lo as usize..*hi as usize];
                // Within the range every needle shares the first `consumed` bytes; the one that
                // ends there sorts first, the others by their next byte.
                let key = |&(offset, len): &(u32, u32)| {
                    if consumed < len as usize {
                        i32::from(self.arena[offset as usize + consumed])
                    } else {
                        -1
                    }
                };
                let from = range.partition_point(|id| key(id) < i32::from(byte));
                let to = range.partition_point(|id| key(id) <= i32::from(byte));
                *hi = *lo + to as u32;
                *lo += from as u32;
                lo < hi
            }
            Partial::Flexible {
                id,
                segment,
                offset,
                run,
                ..
            } => {
                let flex = &self.flexibles[*id as usize];
                let current = &flex.segments[*segment as usize];
                if (*offset as usize) < current.len() {
                    let ok = current[*offset as usize] == byte;
                    *offset += 1;
                    return ok;
                }
                if *segment as usize + 1 == flex.segments.len() {
                    return false;
                }
                if byte.is_ascii_whitespace() {
                    *run += 1;
                    return *run as usize <= MAX_WHITESPACE_RUN;
                }
                if *run == 0 || flex.segments[*segment as usize + 1][0] != byte {
                    return false;
                }
                *segment += 1;
                *offset = 1;
                *run = 0;
                true
            }
        }
    }
}

/// Most bits a window's hash gives the bitmap (1 MiB).
const BITMAP_MAX_BITS: u32 = 23;

/// The word and bit of `key`, a window of `gram` bytes, in a bitmap of `words` words, a power
/// of two.
///
/// The shift is a constant and the word index is masked with the length: in the scan's inner
/// loop that is one shift by an immediate instead of one by a register, and no bounds check. A
/// 4-byte window, whose key has only 32 bits, is hashed with a 32-bit multiply by the 32-bit
/// golden ratio; an 8-byte one with the 64-bit multiply.
#[inline(always)]
fn bitmap_slot(key: u64, gram: usize, words: usize) -> (usize, u64) {
    let h = if gram == 4 {
        ((key as u32).wrapping_mul(HASH_MUL_32) >> (32 - BITMAP_MAX_BITS)) as usize
    } else {
        (key.wrapping_mul(HASH_MUL) >> (64 - BITMAP_MAX_BITS)) as usize
    };
    ((h >> 6) & (words - 1), 1 << (h & 63))
}

/// Bits of the short-prefix filter (128 KiB).
const SHORT_PREFIX_BITS: usize = 1 << 20;

/// Bit index of a prefix shorter than 8 bytes, its length mixed in. Folded byte by byte: a
/// copy of a run-time length would be a call to `memcpy`.
fn short_prefix_hash(prefix: &[u8]) -> usize {
    let key = prefix.iter().fold((prefix.len() as u64) << 59, |key, &b| {
        key << 8 | u64::from(b)
    });
    (key.wrapping_mul(HASH_MUL) >> (64 - SHORT_PREFIX_BITS.trailing_zeros())) as usize
}

/// The first `gram` bytes of `bytes` as a little-endian integer.
#[inline]
fn window(bytes: &[u8], gram: usize) -> u64 {
    // The two index grams as one load each: a copy of a run-time length is a call to `memcpy`
    // and a stalled reload, which the near-end test of every stream write would pay.
    match gram {
        4 => window_of::<4>(bytes),
        8 => window_of::<8>(bytes),
        _ => {
            let mut key = [0u8; 8];
            key[..gram].copy_from_slice(&bytes[..gram]);
            u64::from_le_bytes(key)
        }
    }
}

/// [`window`] for a gram known at compile time.
#[inline(always)]
fn window_of<const G: usize>(bytes: &[u8]) -> u64 {
    let mut key = [0u8; 8];
    key[..G].copy_from_slice(&bytes[..G]);
    u64::from_le_bytes(key)
}

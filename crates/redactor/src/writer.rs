//! Adapters: `std::io::Write`, a `Vec` the stream is masked into, tokio `AsyncWrite`, and a
//! `tracing-subscriber` `MakeWriter`.

use std::io::{self, Write};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::AsyncWrite;
use tracing_subscriber::fmt::MakeWriter;

use crate::Redactor;
use crate::scrubber::{Scrubber, Sink};

/// Keeps a stream's scrubber in step with its redactor's growing set.
struct Stream {
    redactor: Redactor,
    generation: u64,
    scrubber: Scrubber,
}

impl Stream {
    fn new(redactor: Redactor) -> Stream {
        // The generation is read first: if the set grows in between, the scrubber is newer than
        // the generation says and merely refreshes once more.
        let generation = redactor.generation();
        let scrubber = redactor.scrubber();
        Stream {
            redactor,
            generation,
            scrubber,
        }
    }

    fn refresh(&mut self) {
        if self.redactor.generation() != self.generation {
            let (generation, matcher) = self.redactor.matcher();
            self.generation = generation;
            self.scrubber.replace_matcher(matcher);
        }
    }
}

struct WriteSink<'a, W: Write>(&'a mut W);

impl<W: Write> Sink for WriteSink<'_, W> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            Ok(())
        } else {
            self.0.write_all(bytes)
        }
    }
}

/// A `std::io::Write` that masks every occurrence before passing bytes on.
///
/// Bytes that could still begin an occurrence are held back (see [`RedactWriter::held`]) until
/// the next write decides them; [`RedactWriter::finish`] (or drop) writes them out. `flush`
/// flushes what was released, not what is held.
pub struct RedactWriter<W: Write> {
    inner: Option<W>,
    stream: Stream,
}

impl<W: Write> std::fmt::Debug for RedactWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedactWriter")
            .field("held", &self.held())
            .finish_non_exhaustive()
    }
}

impl<W: Write> RedactWriter<W> {
    /// Wraps `inner`.
    pub fn new(redactor: &Redactor, inner: W) -> Self {
        RedactWriter {
            inner: Some(inner),
            stream: Stream::new(redactor.clone()),
        }
    }

    /// How many bytes are held back now: the longest tail that could still begin an occurrence.
    pub fn held(&self) -> usize {
        self.stream.scrubber.held()
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        self.inner.as_ref().expect("present until finish")
    }

    /// Writes out everything held (a partial occurrence cut off by the end is written as it
    /// is), flushes, and returns the inner writer.
    ///
    /// # Errors
    ///
    /// Any error of the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.finish_in_place()?;
        Ok(self.inner.take().expect("present until finish"))
    }

    fn finish_in_place(&mut self) -> io::Result<()> {
        if let Some(inner) = self.inner.as_mut() {
            self.stream.refresh();
            self.stream.scrubber.finish(&mut WriteSink(inner))?;
            inner.flush()?;
        }
        Ok(())
    }
}

impl<W: Write> Write for RedactWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.refresh();
        let inner = self.inner.as_mut().expect("present until finish");
        self.stream.scrubber.push(buf, &mut WriteSink(inner))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.as_mut().expect("present until finish").flush()
    }
}

impl<W: Write> Drop for RedactWriter<W> {
    fn drop(&mut self) {
        // Errors cannot be reported from drop; `finish` reports them.
        let _ = self.finish_in_place();
    }
}

/// A stream masked into a `Vec` it owns: for output collected in memory piece by piece, such
/// as a step's log kept for an API or a database.
///
/// It holds back and releases exactly what a [`RedactWriter`] does, and [`RedactBuffer::finish`]
/// returns everything. The difference is speed on output larger than the caches: a
/// `RedactWriter` hands each released piece to `Write::write_all`, which copies it to memory
/// not yet in cache and waits for every line of it; here the scan knows where the bytes will go
/// and claims that memory while it reads the input (as [`Redactor::redact_to`] does), so the
/// copy finds it ready (figures in the benches' README).
///
/// ```
/// # use sigil_redactor::{RedactBuffer, Redactor};
/// # use secrecy::SecretString;
/// let redactor = Redactor::builder().value("pw", &SecretString::from("hunter2hunter2")).build()?;
/// let mut log = RedactBuffer::new(&redactor, Vec::new());
/// log.push(b"login pw=hunter2hun");
/// assert_eq!(log.released(), b"login pw="); // the rest may still begin the value
/// log.push(b"ter2 ok\n");
/// assert_eq!(log.finish(), b"login pw=*** ok\n");
/// # Ok::<(), sigil_redactor::Error>(())
/// ```
pub struct RedactBuffer {
    out: Vec<u8>,
    stream: Stream,
}

impl std::fmt::Debug for RedactBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedactBuffer")
            .field("released", &self.out.len())
            .field("held", &self.held())
            .finish_non_exhaustive()
    }
}

impl RedactBuffer {
    /// Appends the masked stream to `out` (its allocation is reused).
    pub fn new(redactor: &Redactor, out: Vec<u8>) -> Self {
        RedactBuffer {
            out,
            stream: Stream::new(redactor.clone()),
        }
    }

    /// Masks `input` as the stream's next piece; what is safe is appended to the output.
    pub fn push(&mut self, input: &[u8]) {
        self.stream.refresh();
        // Reserved here, not by `Vec::extend_from_slice` as each piece is copied: the scan can
        // claim only memory that is already the `Vec`'s. The held bytes may go out first.
        self.out.reserve(self.held() + input.len());
        self.stream
            .scrubber
            .push(input, &mut self.out)
            .expect("writing to a Vec cannot fail");
    }

    /// The output so far: everything released; not what is held back.
    pub fn released(&self) -> &[u8] {
        &self.out
    }

    /// How many bytes are held back now: the longest tail that could still begin an occurrence.
    pub fn held(&self) -> usize {
        self.stream.scrubber.held()
    }

    /// Ends the stream: appends everything held (a partial occurrence cut off by the end as it
    /// is) and returns the output.
    pub fn finish(mut self) -> Vec<u8> {
        self.stream.refresh();
        self.stream
            .scrubber
            .finish(&mut self.out)
            .expect("writing to a Vec cannot fail");
        self.out
    }
}

impl Write for RedactBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.push(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A tokio `AsyncWrite` that masks every occurrence before passing bytes on.
///
/// A write is accepted whole once the previous output has been passed on; the output is
/// passed on as the inner writer accepts it. `poll_flush` passes on everything released;
/// `poll_shutdown` also writes out what is held, then shuts the inner writer down. Drop cannot
/// write asynchronously: shut the writer down (`AsyncWriteExt::shutdown`) to end the stream.
pub struct AsyncRedactWriter<W> {
    inner: W,
    stream: Stream,
    pending: Vec<u8>,
    written: usize,
    finished: bool,
}

impl<W> std::fmt::Debug for AsyncRedactWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncRedactWriter")
            .field("held", &self.stream.scrubber.held())
            .field("pending", &(self.pending.len() - self.written))
            .finish_non_exhaustive()
    }
}

impl<W: AsyncWrite + Unpin> AsyncRedactWriter<W> {
    /// Wraps `inner`.
    pub fn new(redactor: &Redactor, inner: W) -> Self {
        AsyncRedactWriter {
            inner,
            stream: Stream::new(redactor.clone()),
            pending: Vec::new(),
            written: 0,
            finished: false,
        }
    }

    /// The inner writer.
    pub fn into_inner(self) -> W {
        self.inner
    }

    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for AsyncRedactWriter<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        this.stream.refresh();
        this.stream.scrubber.push(buf, &mut this.pending)?;
        // Pass on what we can now; the rest goes at the next write or flush.
        if let Poll::Ready(Err(err)) = this.poll_drain(cx) {
            return Poll::Ready(Err(err));
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        if !this.finished {
            this.stream.refresh();
            this.stream.scrubber.finish(&mut this.pending)?;
            this.finished = true;
            ready!(this.poll_drain(cx))?;
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// A `tracing-subscriber` `MakeWriter` whose writers mask every occurrence.
///
/// Each event is formatted and written at once, then its writer is dropped, which writes out
/// anything held: an event never waits for the next one.
///
/// ```
/// # use sigil_redactor::{RedactMakeWriter, Redactor};
/// # use secrecy::SecretString;
/// let redactor = Redactor::builder().value("token", &SecretString::from("tok-1234567890")).build()?;
/// let subscriber = tracing_subscriber::fmt()
///     .with_writer(RedactMakeWriter::new(&redactor, std::io::stderr))
///     .finish();
/// # drop(subscriber);
/// # Ok::<(), sigil_redactor::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct RedactMakeWriter<M> {
    redactor: Redactor,
    inner: M,
}

impl<M> RedactMakeWriter<M> {
    /// Wraps a `MakeWriter` such as `std::io::stderr`.
    pub fn new(redactor: &Redactor, inner: M) -> Self {
        RedactMakeWriter {
            redactor: redactor.clone(),
            inner,
        }
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for RedactMakeWriter<M> {
    type Writer = RedactWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactWriter::new(&self.redactor, self.inner.make_writer())
    }

    /// The inner writer's choice for this event's metadata (level filters such as
    /// `MakeWriterExt::with_max_level`, or routing by target, keep working when wrapped).
    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        RedactWriter::new(&self.redactor, self.inner.make_writer_for(meta))
    }
}

//! Exit statuses shared by every command, as documented in the README.

use std::process::ExitCode;

/// The documented exit codes: 0 ok, 1 findings or a failed step, 2 usage, 3 internal failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything worked; warnings may have been printed.
    Ok,
    /// The command ran and found problems (errors in a config, a failed verification).
    Findings,
    /// The command was called wrongly (bad flags, missing input).
    Usage,
    /// Something failed inside sigil or its environment.
    Internal,
    /// Pass a child's exit status through unchanged.
    Code(u8),
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        match exit {
            Exit::Ok => ExitCode::from(0),
            Exit::Findings => ExitCode::from(1),
            Exit::Usage => ExitCode::from(2),
            Exit::Internal => ExitCode::from(3),
            Exit::Code(code) => ExitCode::from(code),
        }
    }
}

/// Whether an error chain bottoms out in a broken pipe on our own output.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

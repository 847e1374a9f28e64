//! Reading values (stdin, hidden prompt, argument) and writing private files.

use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use secrecy::SecretString;
use secrecy::zeroize::Zeroizing;

/// The value for `set`/`rotate`: the argument (with a warning), else stdin when piped (one
/// trailing newline removed), else a hidden prompt.
pub(crate) fn read_value(argument: Option<String>, name: &str) -> Result<SecretString> {
    if let Some(value) = argument {
        eprintln!(
            "warning: a value on the command line can be seen by other users of this machine \
             (process arguments); pipe it on stdin instead"
        );
        return Ok(SecretString::from(value));
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut bytes = Zeroizing::new(Vec::new());
        stdin
            .lock()
            .read_to_end(&mut bytes)
            .context("read the value from stdin")?;
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        let text = std::str::from_utf8(&bytes).context("the value on stdin is not UTF-8")?;
        return Ok(SecretString::from(text));
    }
    prompt_hidden(&format!("value for {name}: "))
}

/// Prompts on the terminal with echo turned off (through `stty`, so no unsafe code here).
fn prompt_hidden(prompt: &str) -> Result<SecretString> {
    let mut tty_out = std::io::stderr();
    write!(tty_out, "{prompt}")?;
    tty_out.flush()?;
    let stty = |arg: &str| {
        std::process::Command::new("stty")
            .arg(arg)
            .stdin(std::process::Stdio::inherit())
            .status()
            .is_ok_and(|s| s.success())
    };
    let hidden = stty("-echo");
    let mut line = Zeroizing::new(String::new());
    let read = std::io::stdin().read_line(&mut line);
    if hidden {
        stty("echo");
    }
    writeln!(tty_out)?;
    read.context("read the value from the terminal")?;
    let value = line.trim_end_matches(['\n', '\r']);
    if value.is_empty() {
        bail!("no value given");
    }
    Ok(SecretString::from(value))
}

/// Writes a new file readable by its owner only; refuses to overwrite.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("create {} (it must not exist)", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("write {}", path.display()))
}

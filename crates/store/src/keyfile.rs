//! The master key file: created exclusively with mode 0600, refused when others can read it.

use std::io::Write as _;
use std::path::Path;

use secrecy::ExposeSecret;

use crate::crypto::MasterKey;
use crate::error::{ErrorKind, Result};

fn io(context: String) -> impl FnOnce(std::io::Error) -> crate::Error {
    move |source| ErrorKind::Io { context, source }.into()
}

/// Writes `key` (base64) to a new file at `path`, mode 0600; fails if the file exists.
///
/// # Errors
/// [`ErrorKind::Io`], including when the file already exists.
pub fn create_key_file(path: &Path, key: &MasterKey) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io(format!("create {}", parent.display())))?;
    }
    let mut file = options
        .open(path)
        .map_err(io(format!("create key file {}", path.display())))?;
    let encoded = key.to_base64();
    file.write_all(encoded.expose_secret().as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(io(format!("write key file {}", path.display())))?;
    Ok(())
}

/// Reads a key file, refusing one that group or others can read.
///
/// # Errors
/// [`ErrorKind::KeyMissing`] when absent, [`ErrorKind::KeyFilePermissions`], [`ErrorKind::Io`],
/// [`ErrorKind::InvalidInput`] when it does not hold a key.
pub fn read_key_file(path: &Path) -> Result<MasterKey> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(ErrorKind::KeyMissing {
                path: path.display().to_string(),
            }
            .into());
        }
        Err(err) => return Err(io(format!("read key file {}", path.display()))(err)),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(ErrorKind::KeyFilePermissions {
                path: path.display().to_string(),
                mode,
            }
            .into());
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path).map_err(io(format!("read key file {}", path.display())))?,
    );
    MasterKey::from_base64(&text).map_err(|_| {
        crate::Error::invalid(format!(
            "key file {} does not hold a base64 key of 32 bytes",
            path.display()
        ))
    })
}

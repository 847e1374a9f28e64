//! The backup file: one line of JSON saying what it is, then the sealed dump in base64.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::crypto::{KdfParams, MasterKey};
use crate::error::{Error, ErrorKind, Result};
use crate::model::Timestamp;
use crate::ops::{Dump, Keys, backup_aad};
use crate::store::KeySource;

/// The clear header of a backup file.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    cipher: String,
    store_id: String,
    key_id: String,
    kdf: Option<KdfParams>,
    created_at: String,
    tables: Vec<(String, usize)>,
}

const FORMAT: &str = "sigil-backup";

pub(crate) fn seal(keys: &Keys, kdf: Option<KdfParams>, dump: &Dump) -> Result<Vec<u8>> {
    let header = Header {
        format: FORMAT.into(),
        version: 1,
        cipher: "AES-256-GCM, key = the store's master key".into(),
        store_id: keys.store_id.clone(),
        key_id: keys.master.id().to_owned(),
        kdf,
        created_at: Timestamp::now().to_string(),
        tables: dump
            .iter()
            .map(|(t, rows)| (t.clone(), rows.len()))
            .collect(),
    };
    let payload = zeroize::Zeroizing::new(
        serde_json::to_vec(dump).map_err(|e| Error::corrupt(e.to_string()))?,
    );
    let sealed = keys.master.seal(&payload, &backup_aad(&keys.store_id));
    let mut out = serde_json::to_vec(&header).map_err(|e| Error::corrupt(e.to_string()))?;
    out.push(b'\n');
    out.extend_from_slice(STANDARD.encode(sealed).as_bytes());
    out.push(b'\n');
    Ok(out)
}

pub(crate) fn open(bytes: &[u8], key: KeySource) -> Result<(MasterKey, Dump)> {
    let text = std::str::from_utf8(bytes).map_err(|_| Error::invalid("not a sigil backup file"))?;
    let (header, body) = text
        .split_once('\n')
        .ok_or_else(|| Error::invalid("not a sigil backup file"))?;
    let header: Header =
        serde_json::from_str(header).map_err(|_| Error::invalid("not a sigil backup file"))?;
    if header.format != FORMAT || header.version != 1 {
        return Err(Error::invalid(format!(
            "unsupported backup format {} version {}",
            header.format, header.version
        )));
    }
    let master = match key {
        KeySource::Key(master) => master,
        KeySource::Passphrase(passphrase) => {
            let kdf = header.kdf.as_ref().ok_or_else(|| {
                Error::invalid("this backup was made with a key, not a passphrase")
            })?;
            MasterKey::from_passphrase(&passphrase, kdf)?
        }
    };
    if master.id() != header.key_id {
        return Err(ErrorKind::WrongKey {
            given: master.id().to_owned(),
            expected: header.key_id,
        }
        .into());
    }
    let sealed = STANDARD
        .decode(body.trim())
        .map_err(|_| Error::invalid("backup body is not base64"))?;
    let payload = master.open(&sealed, &backup_aad(&header.store_id), &|| {
        "the backup".into()
    })?;
    let dump: Dump =
        serde_json::from_slice(&payload).map_err(|_| Error::corrupt("backup payload"))?;
    Ok((master, dump))
}

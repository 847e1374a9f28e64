//! AES-256-GCM sealing, master keys, Argon2id and HMAC-SHA256.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};

const NONCE_LEN: usize = 12;

/// A 256-bit master key. Zeroized on drop; `Debug` shows only its key id.
pub struct MasterKey {
    bytes: SecretBox<[u8; 32]>,
    id: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Clone for MasterKey {
    fn clone(&self) -> MasterKey {
        MasterKey::from_bytes(*self.bytes.expose_secret())
    }
}

impl MasterKey {
    /// A fresh random key.
    pub fn generate() -> MasterKey {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes[..]);
        MasterKey::from_bytes(bytes)
    }

    /// Wraps raw key bytes.
    pub fn from_bytes(mut bytes: [u8; 32]) -> MasterKey {
        let digest = Sha256::new()
            .chain_update(b"sigil key id\0")
            .chain_update(bytes)
            .finalize();
        let id = hex(&digest[..8]);
        let key = MasterKey {
            bytes: SecretBox::new(Box::new(bytes)),
            id,
        };
        zeroize::Zeroize::zeroize(&mut bytes);
        key
    }

    /// Decodes a base64 key of 32 bytes (surrounding whitespace ignored).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when it is not base64 of 32 bytes (the text is not repeated).
    pub fn from_base64(text: &str) -> Result<MasterKey> {
        let decoded = Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .map_err(|_| Error::invalid("master key is not valid base64"))?,
        );
        let bytes: [u8; 32] = decoded.as_slice().try_into().map_err(|_| {
            Error::invalid("master key must be 32 bytes (base64 of 32 random bytes)")
        })?;
        Ok(MasterKey::from_bytes(bytes))
    }

    /// The key as base64, for a key file.
    pub fn to_base64(&self) -> SecretString {
        SecretString::from(STANDARD.encode(self.bytes.expose_secret()))
    }

    /// Derives a key from a passphrase with Argon2id.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for unusable parameters.
    pub fn from_passphrase(passphrase: &SecretString, kdf: &KdfParams) -> Result<MasterKey> {
        let params = argon2::Params::new(kdf.m_cost, kdf.t_cost, kdf.p_cost, Some(32))
            .map_err(|e| Error::invalid(format!("argon2 parameters: {e}")))?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = [0u8; 32];
        argon
            .hash_password_into(passphrase.expose_secret().as_bytes(), &kdf.salt, &mut out)
            .map_err(|e| Error::invalid(format!("argon2: {e}")))?;
        Ok(MasterKey::from_bytes(out))
    }

    /// The key id: the first 8 bytes of a SHA-256 of the key, in hex.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        seal(self.bytes.expose_secret(), plaintext, aad)
    }

    pub(crate) fn open(
        &self,
        sealed: &[u8],
        aad: &[u8],
        what: &dyn Fn() -> String,
    ) -> Result<Zeroizing<Vec<u8>>> {
        open(self.bytes.expose_secret(), sealed, aad, what)
    }
}

/// Argon2id parameters and salt, stored beside a passphrase-protected store.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KdfParams {
    /// Memory cost in KiB.
    pub m_cost: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Parallelism.
    pub p_cost: u32,
    /// Salt.
    #[serde(with = "b64")]
    pub salt: Vec<u8>,
}

impl KdfParams {
    /// Argon2id with the crate's default costs and a fresh 16-byte salt.
    pub fn generate() -> KdfParams {
        let mut salt = vec![0u8; 16];
        rand::fill(&mut salt[..]);
        KdfParams {
            m_cost: argon2::Params::DEFAULT_M_COST,
            t_cost: argon2::Params::DEFAULT_T_COST,
            p_cost: argon2::Params::DEFAULT_P_COST,
            salt,
        }
    }
}

pub(crate) mod b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// Encrypts with a random nonce; returns nonce || ciphertext || tag.
pub(crate) fn seal(key: &[u8; 32], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new(key.into());
    let mut nonce = [0u8; NONCE_LEN];
    rand::fill(&mut nonce[..]);
    let ciphertext = cipher
        .encrypt(
            &nonce.into(),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .expect("AES-GCM encryption of an in-memory buffer cannot fail");
    let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    out
}

/// Decrypts nonce || ciphertext || tag.
pub(crate) fn open(
    key: &[u8; 32],
    sealed: &[u8],
    aad: &[u8],
    what: &dyn Fn() -> String,
) -> Result<Zeroizing<Vec<u8>>> {
    let failed = || -> Error { ErrorKind::DecryptionFailed { what: what() }.into() };
    if sealed.len() < NONCE_LEN + 16 {
        return Err(failed());
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| failed())?;
    let cipher = Aes256Gcm::new(key.into());
    cipher
        .decrypt(
            &nonce.into(),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| failed())
}

/// A fresh data key, sealed under the master key, plus the value sealed under the data key.
pub(crate) fn encrypt_value(master: &MasterKey, value: &[u8], aad: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut data_key = Zeroizing::new([0u8; 32]);
    rand::fill(&mut data_key[..]);
    let wrapped = master.seal(&data_key[..], aad);
    let ciphertext = seal(&data_key, value, aad);
    (wrapped, ciphertext)
}

/// Unwraps the data key and decrypts the value.
pub(crate) fn decrypt_value(
    master: &MasterKey,
    wrapped: &[u8],
    ciphertext: &[u8],
    aad: &[u8],
    what: &dyn Fn() -> String,
) -> Result<Zeroizing<Vec<u8>>> {
    let data_key = master.open(wrapped, aad, what)?;
    let data_key: &[u8; 32] = data_key
        .as_slice()
        .try_into()
        .map_err(|_| Error::from(ErrorKind::DecryptionFailed { what: what() }))?;
    open(data_key, ciphertext, aad, what)
}

/// HMAC-SHA256.
pub(crate) fn mac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac =
        <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// Constant-time HMAC check.
pub(crate) fn mac_verify(key: &[u8], message: &[u8], tag: &[u8]) -> bool {
    let mut mac =
        <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    mac.verify_slice(tag).is_ok()
}

pub(crate) fn sha256(data: &[u8]) -> Vec<u8> {
    sha256_array(data).to_vec()
}

pub(crate) fn sha256_array(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_binding() {
        let key = MasterKey::generate();
        let sealed = key.seal(b"value", b"aad-1");
        assert_ne!(
            sealed,
            key.seal(b"value", b"aad-1"),
            "fresh nonce each time"
        );
        let what = || "test".to_owned();
        assert_eq!(&key.open(&sealed, b"aad-1", &what).unwrap()[..], b"value");
        assert!(key.open(&sealed, b"aad-2", &what).is_err());
        assert!(
            MasterKey::generate()
                .open(&sealed, b"aad-1", &what)
                .is_err()
        );
        for i in 0..sealed.len() {
            let mut flipped = sealed.clone();
            flipped[i] ^= 0x80;
            assert!(key.open(&flipped, b"aad-1", &what).is_err(), "byte {i}");
        }
    }

    #[test]
    fn key_ids_and_encodings() {
        let key = MasterKey::generate();
        let again =
            MasterKey::from_base64(secrecy::ExposeSecret::expose_secret(&key.to_base64())).unwrap();
        assert_eq!(key.id(), again.id());
        assert_eq!(key.id().len(), 16);
        assert!(format!("{key:?}").contains(key.id()));
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
    }

    #[test]
    fn passphrase_derivation_is_stable_per_salt() {
        let kdf = KdfParams {
            m_cost: 64,
            t_cost: 1,
            p_cost: 1,
            salt: vec![7; 16],
        };
        let pass = SecretString::from("correct horse");
        let a = MasterKey::from_passphrase(&pass, &kdf).unwrap();
        let b = MasterKey::from_passphrase(&pass, &kdf).unwrap();
        assert_eq!(a.id(), b.id());
        let other = KdfParams {
            salt: vec![8; 16],
            ..kdf
        };
        assert_ne!(
            a.id(),
            MasterKey::from_passphrase(&pass, &other).unwrap().id()
        );
    }
}

//! sigil-store: encrypted, versioned, audited secrets on SQLite and PostgreSQL.
#![deny(missing_docs)]

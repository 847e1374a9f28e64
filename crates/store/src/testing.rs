//! Helpers for sigil's own test suites (hidden from the documentation): the PostgreSQL server
//! they run against, and a schema of its own for each test.

use crate::StoreLocation;

/// The PostgreSQL server sigil's test suites run against: `SIGIL_TEST_POSTGRES_URL` (unset or
/// empty: none). Without one the caller's PostgreSQL tests are skipped, with a line on stderr
/// that says so, except under CI (`CI` set), where a missing server is a failure, never a skip.
///
/// # Panics
/// When `CI` is set and the variable is unset or empty.
pub fn test_postgres_url() -> Option<String> {
    match std::env::var("SIGIL_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("SIGIL_TEST_POSTGRES_URL must be set under CI")
        }
        _ => {
            eprintln!("skipped: set SIGIL_TEST_POSTGRES_URL to run the PostgreSQL tests");
            None
        }
    }
}

/// A schema of its own on the test server, so that tests running at once never meet, and the
/// store location that uses it. Tests panic on any failure here: these are fixtures.
#[derive(Debug, Clone)]
pub struct TestSchema {
    /// The server, as `SIGIL_TEST_POSTGRES_URL` gives it.
    pub url: String,
    /// The schema's name.
    pub name: String,
    /// A store in that schema.
    pub location: StoreLocation,
}

impl TestSchema {
    /// A schema with a random name, `t_` and 12 hex digits.
    pub fn new(url: &str) -> TestSchema {
        let mut id = [0u8; 6];
        rand::fill(&mut id[..]);
        let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
        TestSchema::named(url, &format!("t_{hex}"))
    }

    /// A schema named `name`.
    pub fn named(url: &str, name: &str) -> TestSchema {
        let sep = if url.contains('?') { '&' } else { '?' };
        let location = StoreLocation::parse(&format!("{url}{sep}schema={name}"))
            .expect("a PostgreSQL URL with a schema parses");
        TestSchema {
            url: url.to_owned(),
            name: name.to_owned(),
            location,
        }
    }

    /// A connection of its own whose search path is this schema (for direct SQL, such as the
    /// tamper tests).
    pub async fn client(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .expect("the test PostgreSQL server accepts connections");
        tokio::spawn(connection);
        client
            .batch_execute(&format!("SET search_path TO \"{}\"", self.name))
            .await
            .expect("set the search path");
        client
    }

    /// Removes the schema and everything in it.
    pub async fn drop_schema(&self) {
        self.client()
            .await
            .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name))
            .await
            .expect("drop the test schema");
    }
}

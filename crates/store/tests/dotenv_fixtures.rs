//! `.env` dialect cases from `fixtures/store/dotenv/`: each `<case>.env` beside `<case>.json`
//! holding the expected `entries` (and `duplicates`) or the expected `error`. A new case is a new
//! pair of files.

use secrecy::ExposeSecret;

#[test]
fn dotenv_fixtures() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/store/dotenv");
    let mut cases = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "env") {
            continue;
        }
        cases += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path.with_extension("json")).unwrap())
                .unwrap();
        let got = match sigil_store::parse_dotenv(&text) {
            Ok(parsed) => {
                let entries: Vec<(String, String)> = parsed
                    .entries
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.expose_secret().to_owned()))
                    .collect();
                let mut got = serde_json::json!({ "entries": entries });
                if !parsed.duplicates.is_empty() {
                    got["duplicates"] = serde_json::json!(parsed.duplicates);
                }
                got
            }
            Err(err) => serde_json::json!({ "error": err.to_string() }),
        };
        assert_eq!(got, expected, "{}", path.display());
    }
    assert!(cases >= 20, "only {cases} cases found in {dir}");
}

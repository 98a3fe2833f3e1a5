//! Helpers shared by powersweep's own guests. Plain Rust: no WIT bindings, no host calls.

/// Parses JSON, naming the field at fault (`iterations: invalid type: string "many", …`),
/// which plain `serde_json` does not do.
pub fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, String> {
    let de = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(de).map_err(|e| match e.path().to_string().as_str() {
        "." => e.inner().to_string(),
        path => format!("{path}: {}", e.inner()),
    })
}

#[cfg(test)]
mod tests {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct P {
        n: u32,
    }

    #[test]
    fn names_the_field() {
        assert!(
            super::parse::<P>(r#"{"n":"x"}"#)
                .unwrap_err()
                .starts_with("n: invalid type")
        );
        assert!(super::parse::<P>("[").unwrap_err().contains("EOF"));
    }
}

//! What may be shown: credentials in headers and passwords in URLs are
//! hidden wherever a probe is described (the dashboard's detail view,
//! evidence), next to the probes that carry them; a Secret's values are
//! hidden wherever an object is shown whole (the dashboard's object view).

/// Header values that carry credentials are never shown; `${env:NAME}`
/// references are shown as written (the name is not the secret).
pub fn header(name: &str, value: &str) -> String {
    if value.trim().starts_with("${env:") && value.trim().ends_with('}') {
        return value.to_string();
    }
    let n = name.to_ascii_lowercase();
    let sensitive = [
        "authorization",
        "cookie",
        "token",
        "secret",
        "key",
        "password",
        "session",
    ];
    if sensitive.iter().any(|s| n.contains(s)) {
        match value.split_once(' ') {
            // Keep the scheme: "Bearer ‹redacted›" still says what kind it is.
            Some((scheme, _)) if !value.contains("${env:") => format!("{scheme} ‹redacted›"),
            _ if value.contains("${env:") => value.to_string(),
            _ => "‹redacted›".to_string(),
        }
    } else {
        value.to_string()
    }
}

/// A password in a URL's user info is never shown.
pub fn url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..host_end];
    match authority.rsplit_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:‹redacted›@{host}{}", &rest[host_end..])
        }
        _ => url.to_string(),
    }
}

/// A Secret's values, replaced in place by how long they are: each entry
/// of `data` (base64, counted decoded) and `stringData` becomes
/// `‹redacted, N bytes›`. The keys stay: they are what a reviewer checks.
pub fn secret_values(object: &mut serde_json::Value) {
    for (field, encoded) in [("data", true), ("stringData", false)] {
        let Some(map) = object.get_mut(field).and_then(|m| m.as_object_mut()) else {
            continue;
        };
        for value in map.values_mut() {
            let bytes = match value.as_str() {
                Some(text) if encoded => decoded_len(text),
                Some(text) => text.len(),
                None => value.to_string().len(),
            };
            let unit = if bytes == 1 { "byte" } else { "bytes" };
            *value = serde_json::Value::String(format!("‹redacted, {bytes} {unit}›"));
        }
    }
}

/// The length of what `text` decodes to when it is base64, else its own.
fn decoded_len(text: &str) -> usize {
    let body: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let alphabet = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
    if !body.len().is_multiple_of(4) || !body.iter().all(alphabet) {
        return text.len();
    }
    let padding = body.iter().rev().take_while(|b| **b == b'=').count();
    body.len() / 4 * 3 - padding.min(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_hidden_but_their_kind_and_env_names_stay() {
        assert_eq!(
            header("Authorization", "Bearer abc123"),
            "Bearer ‹redacted›"
        );
        assert_eq!(header("X-Api-Key", "abc123"), "‹redacted›");
        assert_eq!(
            header("Authorization", "Bearer ${env:TOKEN}"),
            "Bearer ${env:TOKEN}"
        );
        assert_eq!(header("Accept", "application/json"), "application/json");
        assert_eq!(
            url("https://bob:hunter2@db.example.com/x"),
            "https://bob:‹redacted›@db.example.com/x"
        );
        assert_eq!(url("https://example.com/a@b"), "https://example.com/a@b");
    }

    #[test]
    fn a_secrets_values_become_their_length_and_its_keys_stay() {
        let mut secret = serde_json::json!({
            "kind": "Secret",
            "data": {"PASSWORD": "aHVudGVyMg==", "TOKEN": "YWJj"},
            "stringData": {"URL": "postgres://db"},
            "type": "Opaque",
        });
        secret_values(&mut secret);
        assert_eq!(secret["data"]["PASSWORD"], "‹redacted, 7 bytes›");
        assert_eq!(secret["data"]["TOKEN"], "‹redacted, 3 bytes›");
        assert_eq!(secret["stringData"]["URL"], "‹redacted, 13 bytes›");
        assert_eq!(secret["type"], "Opaque");
        assert!(!secret.to_string().contains("aHVudGVyMg"));
    }
}

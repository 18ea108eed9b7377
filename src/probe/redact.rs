//! What a probe's settings may show of themselves: credentials in headers
//! and passwords in URLs are hidden wherever a probe is described (the
//! dashboard's detail view, evidence), next to the probes that carry them.

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
    let host_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..host_end];
    match authority.rsplit_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:‹redacted›@{host}{}", &rest[host_end..])
        }
        _ => url.to_string(),
    }
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
}

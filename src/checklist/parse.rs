//! Reading a checklist file into the model, with every position kept so that
//! errors point at the offending text.

use serde::Deserialize;
use toml::Spanned;

/// A probe table as written: every field any kind accepts, each optional and
/// spanned. `resolve` checks which fields the kind allows.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProbe {
    pub kind: Option<Spanned<String>>,
    pub every: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub expect: Option<Spanned<String>>,
    // kube
    pub resource: Option<Spanned<String>>,
    pub namespace: Option<Spanned<String>>,
    pub name: Option<Spanned<String>>,
    pub selector: Option<Spanned<String>>,
    pub field_selector: Option<Spanned<String>>,
    pub quantifier: Option<Spanned<String>>,
    pub min: Option<Spanned<toml::Value>>,
    pub max: Option<Spanned<toml::Value>>,
    // http
    pub url: Option<Spanned<String>>,
    pub method: Option<Spanned<String>>,
    pub headers: Option<Spanned<std::collections::BTreeMap<String, Spanned<String>>>>,
    pub body: Option<Spanned<String>>,
    pub status: Option<Spanned<toml::Value>>,
    pub samples: Option<Spanned<toml::Value>>,
    pub follow_redirects: Option<Spanned<bool>>,
    pub insecure: Option<Spanned<bool>>,
    pub ca_file: Option<Spanned<String>>,
    // tls
    pub host: Option<Spanned<String>>,
    pub port: Option<Spanned<toml::Value>>,
    pub server_name: Option<Spanned<String>>,
    pub min_days: Option<Spanned<toml::Value>>,
    // file
    pub root: Option<Spanned<String>>,
    pub glob: Option<Spanned<toml::Value>>,
    pub exclude: Option<Spanned<Vec<Spanned<String>>>>,
    pub pattern: Option<Spanned<String>>,
    pub matches: Option<Spanned<toml::Value>>,
    pub min_matches: Option<Spanned<toml::Value>>,
    pub max_matches: Option<Spanned<toml::Value>>,
    pub min_files: Option<Spanned<toml::Value>>,
    pub skip_comments: Option<Spanned<String>>,
    // promql
    pub query: Option<Spanned<String>>,
    // command
    pub argv: Option<Spanned<Vec<Spanned<String>>>>,
    pub cwd: Option<Spanned<String>>,
    pub exit: Option<Spanned<toml::Value>>,
}

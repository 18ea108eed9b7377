//! CEL: compiling `expect` expressions and evaluating them against JSON.

use std::sync::Arc;

use crate::checklist::model::Expect;

/// A syntax error inside an expression; `offset` is a byte offset into the
/// expression text, so the loader can map it to the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

/// Why an expression did not produce `true` or `false`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvalError {
    /// A field the expression reads is not there, e.g. `object.data.OIDC_ISSUER`.
    MissingField(String),
    /// It evaluated to something other than a bool.
    NotBool(String),
    Other(String),
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::MissingField(path) => write!(f, "no field {path}"),
            EvalError::NotBool(got) => write!(f, "expected true or false, got {got}"),
            EvalError::Other(m) => f.write_str(m),
        }
    }
}

pub fn compile(source: &str) -> Result<Expect, SyntaxError> {
    let program = cel::Program::compile(source).map_err(|e| SyntaxError {
        offset: 0,
        message: e.to_string(),
    })?;
    Ok(Expect {
        source: source.to_string(),
        program: Arc::new(program),
    })
}

/// Evaluates `expect` with the named JSON values bound as variables.
pub fn evaluate(_expect: &Expect, _vars: &[(&str, &serde_json::Value)]) -> Result<bool, EvalError> {
    Err(EvalError::Other("CEL evaluation is not built yet".into()))
}

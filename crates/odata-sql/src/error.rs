//! Translation errors: invalid (400) and unsupported (501), both positioned.

use odata_parser::ast::Span;

/// Why a query could not be translated.
///
/// `Invalid` is the client's mistake (HTTP 400): an unknown property, an
/// operand of the wrong type, a wrong number of arguments, a value out of
/// range. `Unsupported` is a well-formed request for a feature this service
/// does not implement (HTTP 501). Both carry the query option they concern
/// (`$filter`, `$orderby`, ...) and the span of the offending text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TranslateError {
    /// The query is well-formed but wrong for this model (HTTP 400).
    #[error("{message}")]
    Invalid {
        /// What is wrong, for people.
        message: String,
        /// The query option (`$filter`, `$select`, ...).
        target: String,
        /// Where, in the text the AST was parsed from.
        span: Span,
    },
    /// A recognised feature that is not implemented (HTTP 501).
    #[error("{message}")]
    Unsupported {
        /// What is not supported, for people.
        message: String,
        /// The query option (`$apply`, `$filter`, ...).
        target: String,
        /// Where, in the text the AST was parsed from.
        span: Span,
    },
}

impl TranslateError {
    /// An [`TranslateError::Invalid`].
    pub fn invalid(target: &str, span: Span, message: impl Into<String>) -> Self {
        TranslateError::Invalid {
            message: message.into(),
            target: target.to_owned(),
            span,
        }
    }

    /// An [`TranslateError::Unsupported`].
    pub fn unsupported(target: &str, span: Span, message: impl Into<String>) -> Self {
        TranslateError::Unsupported {
            message: message.into(),
            target: target.to_owned(),
            span,
        }
    }

    /// The query option the error concerns.
    pub fn target(&self) -> &str {
        match self {
            TranslateError::Invalid { target, .. } | TranslateError::Unsupported { target, .. } => {
                target
            }
        }
    }

    /// The span of the offending text.
    pub fn span(&self) -> Span {
        match self {
            TranslateError::Invalid { span, .. } | TranslateError::Unsupported { span, .. } => {
                *span
            }
        }
    }

    /// Whether this is an [`TranslateError::Unsupported`].
    pub fn is_unsupported(&self) -> bool {
        matches!(self, TranslateError::Unsupported { .. })
    }
}

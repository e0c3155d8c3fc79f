//! OData parser.
#![allow(missing_docs)]
pub mod ast;

//! The identity users service.

pub mod odata;
pub mod tenancy;

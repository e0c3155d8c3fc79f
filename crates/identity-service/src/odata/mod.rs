//! Glue between the routes and the translator: the one read path that turns
//! a raw OData query string into JSON records (see docs/architecture.md).

//! The identity users service: configuration, domain types, storage
//! (SeaORM), actix-web routes, the OData read glue and the CLI.
//!
//! ```no_run
//! use identity_service::{configuration::Settings, startup::Application};
//! # async fn run() -> anyhow::Result<()> {
//! let settings = Settings { bind: "127.0.0.1:0".into(), demo: false, ..Settings::default() };
//! let app = Application::build(settings).await?;
//! println!("listening on http://127.0.0.1:{}", app.port());
//! app.run_until_stopped().await?;
//! # Ok(())
//! # }
//! ```

pub mod auth;
pub mod cli;
pub mod compress;
pub mod configuration;
pub mod cors;
pub mod demo;
pub mod domain;
pub mod error;
pub mod etag;
pub mod fair;
pub mod feed;
pub mod http;
pub mod import;
pub mod links;
pub mod mail;
pub mod odata;
pub mod pictures;
pub mod routes;
pub mod sample_data;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod tenancy;

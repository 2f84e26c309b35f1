//! Qualead: a CPA network. See `DESIGN.md` for the product contract.

pub mod acting;
pub mod api;
pub mod app;
pub mod cli;
pub mod client_ip;
pub mod config;
pub mod crypto;
pub mod db;
mod demo;
pub mod domain;
pub mod effects;
pub mod error;
pub mod i18n;
pub mod mail;
pub mod marketplace;
pub mod metrics;
pub mod settlement;
pub mod state;
pub mod store;
pub mod tracking;
pub mod web;
pub mod webhooks;

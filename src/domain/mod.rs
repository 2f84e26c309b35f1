//! Pure business rules with no I/O: accounts, money. The web and database layers
//! stay thin around these.

pub mod account;
pub mod channels;
pub mod csv;
pub mod ctit;
pub mod device;
pub mod geo;
pub mod intake;
pub mod lifecycle;
pub mod local;
pub mod money;
pub mod netranges;
pub mod offer;
pub mod reconciliation;
pub mod report;
pub mod rollup;
pub mod scrub;
pub mod source_block;
pub mod suspects;
pub mod targeting;
pub mod terms;
pub mod text;
pub mod tracking;
pub mod verdict_stats;

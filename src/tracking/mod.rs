//! Tracking: the links publishers send traffic through and the codes advertisers
//! install. (Click, postback, pixel and lead-intake endpoints live here too.)

pub mod links;

//! Integration tests of the discovery machine against canned worlds.

mod harness;

mod auth;
mod dns_order;
mod redirects;
mod termination;
mod url_input;
mod well_known;

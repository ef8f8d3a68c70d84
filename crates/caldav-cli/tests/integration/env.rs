//! Where the real servers are: `.state/servers/env` of this checkout, or the environment.

pub(crate) use test_support::servers::var;

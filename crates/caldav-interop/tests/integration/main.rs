//! The interop matrix against the real servers (`cargo xtask servers start`): every scenario
//! on every running server; any FAIL fails the test (not supported and n/a do not).

mod matrix;

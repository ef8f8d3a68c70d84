//! Input generators shared by the benchmarks in `benches/benches/`.
//!
//! Each benchmark measures our crates and their peers on the same bytes in the same run and
//! prints ratios; see `README.md` in this folder.

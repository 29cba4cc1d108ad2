//! Nothing to see here: the benchmarks are in `benches/` (run them with `make bench`).

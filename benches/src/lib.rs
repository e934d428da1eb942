//! Shared set-up for Reservo's criterion benches (the benches themselves are
//! under `benches/benches/`). See `benches/README.md` for the figures and the
//! commands that reproduce them.

/// A single-threaded tokio runtime: the benches measure one caller on one
/// core, as the targets in `benches/README.md` are stated.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime always builds")
}

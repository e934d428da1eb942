//! Lets `cargo test` link the Python that runs the tests (no effect under maturin).
fn main() {
    pyo3_build_config::add_libpython_rpath_link_args();
}

//! Embeds the Python that `PYO3_PYTHON` names: an rpath to its libpython and
//! its home (see `tracecode_exec/build_support.rs`), and records the
//! interpreter so `tracecode` queries the same one at run time by default.

include!("../tracecode_exec/build_support.rs");

fn main() {
    emit_python_embedding();
    if let Ok(python) = std::env::var("PYO3_PYTHON") {
        println!("cargo:rustc-env=TRACECODE_BUILD_PYTHON={python}");
    }
}

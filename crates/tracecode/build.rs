//! Embeds the Python that `PYO3_PYTHON` names: an rpath to its libpython and
//! its home (see `tracecode_exec/build_support.rs`), and records the
//! interpreter so `tracecode` queries the same one at run time by default;
//! and an rpath to the venv's libtorch.

include!("../tracecode_exec/build_support.rs");

fn main() {
    emit_python_embedding();
    // `tracecode` links libtorch (train, embed): find it at run time without LD_LIBRARY_PATH.
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
    if let Ok(python) = std::env::var("PYO3_PYTHON") {
        println!("cargo:rustc-env=TRACECODE_BUILD_PYTHON={python}");
    }
}

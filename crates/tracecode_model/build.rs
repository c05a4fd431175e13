//! Binaries and tests of this crate run against the venv's libtorch: record an
//! rpath to it so no `LD_LIBRARY_PATH` is needed.

fn main() {
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
}

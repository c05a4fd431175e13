// Shared build-script logic for binaries that embed CPython through
// `tracecode_exec`. Both `crates/tracecode_exec/build.rs` and the CLI's
// `build.rs` `include!` this file (it only needs `pyo3-build-config` as a
// build-dependency), so every binary finds libpython and its stdlib without
// LD_LIBRARY_PATH or PYTHONHOME.
//
// * `-Wl,-rpath,<libdir>`: the loader finds `libpython3.X.so` next to the
//   interpreter chosen through `PYO3_PYTHON`.
// * `TRACECODE_PYTHON_HOME`: `sys.base_prefix` of that interpreter, baked into
//   the crate (`env!`) and handed to CPython as `PyConfig.home`.

/// Emit the rpath link argument and the `TRACECODE_PYTHON_HOME` env for the
/// interpreter pyo3 builds against. Call from a build script.
#[allow(dead_code)]
pub fn emit_python_embedding() {
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
    println!("cargo:rerun-if-env-changed=PYO3_CONFIG_FILE");
    let cfg = pyo3_build_config::get();
    if let Some(dir) = cfg.lib_dir() {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
    let home = cfg
        .executable()
        .and_then(|exe| {
            std::process::Command::new(exe)
                .args(["-I", "-S", "-c", "import sys; print(sys.base_prefix)"])
                .output()
                .ok()
        })
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    println!("cargo:rustc-env=TRACECODE_PYTHON_HOME={home}");
}

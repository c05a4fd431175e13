//! The sandboxed tracing worker that `tracecode trace` and `tracecode
//! variants` spawn, one per core. A binary of its own because it uses only
//! `tracecode_exec`: it does not load libtorch, which the `tracecode` binary
//! links and which takes most of a process's start-up (~0.3 s of a 0.35 s
//! `tracecode __worker` start). Built with the CLI; the CLI falls back to its
//! own hidden `__worker` subcommand when this file is missing.
fn main() {
    tracecode_exec::worker_main()
}

//! Worker process entry point: speaks the tracecode protocol on the fd named by
//! `TRACECODE_WORKER_FD` (spawned by `tracecode_exec::Supervisor`).
fn main() {
    tracecode_exec::worker_main()
}

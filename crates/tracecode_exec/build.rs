include!("build_support.rs");

fn main() {
    emit_python_embedding();
}

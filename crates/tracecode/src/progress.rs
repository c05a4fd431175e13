//! Progress bars on stderr; silent when stderr is not a terminal (CI logs).

use indicatif::{ProgressBar, ProgressStyle};

/// A bar over `len` items labelled `what`, with rate and ETA.
pub fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template(
            "{prefix:>10} [{bar:32}] {pos}/{len} {per_sec} eta {eta} {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    pb.set_prefix(what.to_string());
    pb
}

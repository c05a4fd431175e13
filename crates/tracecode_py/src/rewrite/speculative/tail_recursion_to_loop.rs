//! PLACEHOLDER: being written.

use rand_chacha::ChaCha8Rng;

use crate::edit::{EditError, ParsedFunction};
use crate::rewrite::{Rewrite, RewriteKind, Rewritten};

pub struct TailRecursionToLoop;

impl Rewrite for TailRecursionToLoop {
    fn kind(&self) -> RewriteKind {
        RewriteKind::TailRecursionToLoop
    }

    fn apply(&self, _f: &ParsedFunction, _rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        Err(EditError::NotApplicable("not written yet".into()))
    }
}

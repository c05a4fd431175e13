//! Speculative rewrites: program transformations that usually keep behaviour
//! but are applied without a proof that they do. Each one matches a syntactic
//! pattern and rewrites it; whether the result is a positive is decided by
//! execution alone (`tracecode variants` keeps a speculative variant only
//! when it is trace-equivalent on every recorded input, and makes it a hard
//! negative otherwise). This is what a trace can certify that static
//! analysis cannot: `sorted(x)` ↔ `x.sort()` is right for a local list and
//! wrong for a caller's, and only a run tells them apart.
//!
//! A speculative rewrite still refuses (`NotApplicable`) when its pattern is
//! absent or the result could not be written (comments inside rebuilt text,
//! strings spanning lines), and every result parses; it never refuses on
//! semantic grounds.

mod accumulator_to_builtin;
mod commute_operands;
mod dict_get;
mod early_return_to_flag;
mod element_to_index_loop;
mod index_to_element_loop;
mod range_to_while;
mod reorder_unchecked;
mod sort_in_place;
mod tail_recursion_to_loop;

pub use accumulator_to_builtin::AccumulatorToBuiltin;
pub use commute_operands::CommuteOperands;
pub use dict_get::DictGet;
pub use early_return_to_flag::EarlyReturnToFlag;
pub use element_to_index_loop::ElementToIndexLoop;
pub use index_to_element_loop::IndexToElementLoop;
pub use range_to_while::RangeToWhile;
pub use reorder_unchecked::ReorderUnchecked;
pub use sort_in_place::SortInPlace;
pub use tail_recursion_to_loop::TailRecursionToLoop;

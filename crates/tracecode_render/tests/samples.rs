//! Real traces: three MBPP records written by `tracecode trace`
//! (`is_not_prime` has a context prelude and a raised run, `binomial_Coeff`
//! recurses, `find_first_duplicate` is the example in `docs/trace-formats.md`).

use tracecode_data::trace::TraceRecord;
use tracecode_render::{render, RenderFormat};

const SAMPLE: &str = include_str!("fixtures/mbpp_sample.jsonl");

fn records() -> Vec<TraceRecord> {
    SAMPLE
        .lines()
        .map(|line| serde_json::from_str(line).expect("fixture rows are TraceRecords"))
        .collect()
}

fn record(qualname: &str) -> TraceRecord {
    records()
        .into_iter()
        .find(|record| record.qualname == qualname)
        .expect("fixture holds the record")
}

#[test]
fn every_run_renders_in_every_format() {
    let records = records();
    assert_eq!(records.len(), 3);
    for trace in &records {
        let code_lines = trace.code.lines().count();
        for run in &trace.runs {
            for format in RenderFormat::ALL {
                let text = render(format, trace, run);
                assert!(text.ends_with('\n'), "{format} of {}", run.call);
                // The code-based layouts add a fixed number of lines around
                // the code: no value may smuggle in a line break.
                let expected_lines = match format {
                    RenderFormat::Next => Some(code_lines + 2),
                    RenderFormat::Semcoder => Some(code_lines + 6),
                    RenderFormat::Codeexecutor => Some(1),
                    RenderFormat::Concise => None,
                };
                if let Some(expected) = expected_lines {
                    assert_eq!(
                        text.lines().count(),
                        expected,
                        "{format} of {}:\n{text}",
                        run.call
                    );
                }
                assert!(text.lines().count() > 1 || format == RenderFormat::Codeexecutor);
            }
        }
    }
}

#[test]
fn recursive_calls_leave_only_the_top_frame() {
    let trace = record("binomial_Coeff");
    let run = &trace.runs[0];
    assert_eq!(run.call, "binomial_Coeff(5,2)");
    assert_eq!(
        render(RenderFormat::Concise, &trace, run),
        "call binomial_Coeff(5,2)\nL2\nL4\nL6\nreturn 10\n"
    );
    assert_eq!(
        render(RenderFormat::Codeexecutor, &trace, run),
        "<line> 2 <state> n : 5 ; k : 2 </state> <line> 4 <state> n : 5 ; k : 2 </state> \
         <line> 6 <state> n : 5 ; k : 2 </state> <output> 10\n"
    );
}

#[test]
fn context_prelude_shifts_lines_and_raised_run_shows_the_exception() {
    let trace = record("is_not_prime");
    assert_eq!(trace.code_line_offset, 1);
    let raised = trace
        .runs
        .iter()
        .find(|run| run.call == "is_not_prime(-35)")
        .expect("the raised run");
    assert_eq!(
        render(RenderFormat::Concise, &trace, raised),
        "call is_not_prime(-35)\nL2: result = False\nL3\nraise ValueError: math domain error\n"
    );
}

/// Prints the renderings pasted into `docs/trace-formats.md`:
/// `cargo test -p tracecode_render --test samples -- --ignored --nocapture`.
#[test]
#[ignore]
fn print_doc_example() {
    let trace = record("find_first_duplicate");
    for format in RenderFormat::ALL {
        println!("--- {format}\n{}", render(format, &trace, &trace.runs[0]));
    }
}

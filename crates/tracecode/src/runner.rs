//! The sandboxed worker pool as the trace and variants stages use it: sandbox
//! options shared by both commands, one traced call, and the checkpointed
//! parallel loop that writes results in atomic parts as it goes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use rayon::prelude::*;
use serde::{de::DeserializeOwned, Serialize};
use tracecode_data::trace::own_lines;
use tracecode_data::{Cfg, PartedOutput, RunResult, TracedRun};
use tracecode_exec::{Limits, RunRequest, Supervisor, SupervisorConfig};

use crate::progress;

/// How code runs: worker count and per-run limits.
#[derive(Args, Debug, Clone)]
pub struct SandboxArgs {
    /// Worker processes (default: one per core).
    #[arg(long)]
    pub workers: Option<usize>,

    /// Wall-time limit of one run, in milliseconds.
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    pub timeout: u64,

    /// Line events after which a run stops with `event_limit`.
    #[arg(long, default_value_t = 100_000)]
    pub max_events: u64,

    /// Write a part of the output after this many newly processed functions.
    #[arg(long, default_value_t = 200)]
    pub checkpoint: usize,
}

/// The worker's command line: the lean `tracecode-exec-worker` binary built
/// beside this one (it starts without loading libtorch), else this binary's
/// hidden `__worker` subcommand.
fn worker_command() -> Result<Vec<std::ffi::OsString>> {
    let exe = std::env::current_exe().context("locating the tracecode binary for workers")?;
    let lean = exe.with_file_name(format!(
        "tracecode-exec-worker{}",
        std::env::consts::EXE_SUFFIX
    ));
    Ok(if lean.is_file() {
        vec![lean.into_os_string()]
    } else {
        vec![exe.into_os_string(), "__worker".into()]
    })
}

/// The pure-Python packages a set of functions imports (their records'
/// `packages` and the modules their contexts import from them): the workers
/// get the packages on `sys.path` and import the modules before the sandbox
/// is armed.
#[derive(Debug, Default)]
pub struct Packages {
    pins: BTreeSet<String>,
    modules: BTreeSet<String>,
}

/// Per function id, the packages its record names and its context.
pub type PackageNeeds = std::collections::HashMap<String, (Vec<String>, String)>;

impl Packages {
    /// What the functions `ids` need, looked up in `needs`.
    pub fn needed_by(ids: &[String], needs: &PackageNeeds) -> Self {
        let mut packages = Packages::default();
        for (pins, context) in ids.iter().filter_map(|id| needs.get(id)) {
            packages.pins.extend(pins.iter().cloned());
            if let Some(modules) = tracecode_py::extract::third_party_imports(context) {
                packages.modules.extend(modules);
            }
        }
        packages
    }

    /// The unpacked packages to put on the workers' path (fetched with pip
    /// when not in the cache; one that cannot be is left out with a warning,
    /// and its functions fail at import with a recorded ModuleNotFoundError).
    fn roots(&self) -> Vec<std::path::PathBuf> {
        let python = crate::env::python(None);
        self.pins
            .iter()
            .filter_map(|pin| match crate::sources::pypi_root(&python, pin) {
                Ok(root) => Some(root),
                Err(e) => {
                    eprintln!("[runner] WARNING: {pin} is not available to the workers: {e:#}");
                    None
                }
            })
            .collect()
    }
}

/// A started worker pool and a thread pool of the same size to drive it.
pub struct Runner {
    supervisor: Supervisor,
    pub limits: Limits,
    threads: rayon::ThreadPool,
    checkpoint: usize,
}

impl Runner {
    pub fn start(args: &SandboxArgs, packages: &Packages) -> Result<Self> {
        let mut cfg = SupervisorConfig::new(worker_command()?);
        if let Some(w) = args.workers {
            cfg.workers = w.max(1);
        }
        if !packages.pins.is_empty() {
            cfg.python_path = packages.roots();
            cfg.preload = packages.modules.iter().cloned().collect();
            eprintln!(
                "[runner] packages on the workers' path: {}; preloaded: {}",
                packages.pins.iter().cloned().collect::<Vec<_>>().join(", "),
                cfg.preload.join(", ")
            );
        }
        let workers = cfg.workers;
        let supervisor =
            Supervisor::new(cfg).map_err(|e| anyhow!("starting tracing workers: {e}"))?;
        for error in &supervisor.sandbox_report().preload_errors {
            eprintln!("[runner] WARNING: preloading {error}");
        }
        Ok(Runner {
            supervisor,
            limits: Limits {
                wall_ms: args.timeout,
                max_events: args.max_events,
                ..Limits::default()
            },
            threads: rayon::ThreadPoolBuilder::new()
                .num_threads(workers)
                .build()?,
            checkpoint: args.checkpoint.max(1),
        })
    }

    /// Runs `call` after executing `module_source`, under `limits`.
    pub fn run(&self, module_source: &str, call: &str, limits: &Limits) -> RunResult {
        self.supervisor
            .run(&RunRequest::new(module_source, call), limits)
    }

    /// Runs `call` on `code` (executed after `context`) and projects the
    /// function's own lines onto `cfg`'s blocks.
    pub fn trace_call(
        &self,
        code: &Code<'_>,
        call: &str,
        strategy: &str,
        limits: &Limits,
    ) -> TracedRun {
        let result = self.run(&code.module_source, call, limits);
        let code_lines = code.code.lines().count() as u32;
        let own: Vec<u32> = own_lines(&result, code.line_offset)
            .into_iter()
            .filter(|&l| l <= code_lines)
            .collect();
        TracedRun {
            call: call.to_string(),
            strategy: strategy.to_string(),
            blocks: code.cfg.blocks_of_lines(&own),
            result,
        }
    }

    /// Applies `work` to every item in parallel and writes the rows it
    /// returns, in item order, as one part of `output` per checkpoint (see
    /// [`PartedOutput`]): memory holds one checkpoint's items and rows (the
    /// items are pulled from a stream such as [`tracecode_data::stream_rows`]
    /// as they are needed), and an interrupted run keeps every finished
    /// checkpoint. At the end the parts are merged into `output` after the
    /// rows it already had. The bar counts to `total` and shows live counts
    /// of `status_of` over new rows.
    pub fn for_each_checkpointed<T: Sync, R: Send + Serialize + DeserializeOwned>(
        &self,
        items: impl IntoIterator<Item = Result<T>>,
        total: usize,
        label: &str,
        output: &PartedOutput,
        work: impl Fn(&T) -> Vec<R> + Sync,
        status_of: impl Fn(&R) -> String + Sync,
    ) -> Result<()> {
        let bar = progress::bar(total as u64, label);
        let counts: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());
        let mut items = items.into_iter();
        loop {
            let chunk: Vec<T> = items
                .by_ref()
                .take(self.checkpoint)
                .collect::<Result<_>>()?;
            if chunk.is_empty() {
                break;
            }
            let rows: Vec<Vec<R>> = self.threads.install(|| {
                chunk
                    .par_iter()
                    .map(|item| {
                        let rows = work(item);
                        let mut c = counts.lock().unwrap();
                        for r in &rows {
                            *c.entry(status_of(r)).or_default() += 1;
                        }
                        bar.set_message(
                            c.iter()
                                .map(|(k, v)| format!("{k} {v}"))
                                .collect::<Vec<_>>()
                                .join(", "),
                        );
                        bar.inc(1);
                        rows
                    })
                    .collect()
            });
            let rows: Vec<R> = rows.into_iter().flatten().collect();
            output.write_part(&rows)?;
        }
        bar.finish_and_clear();
        output.merge::<R>()
    }
}

/// A function's id as a number: the seed of everything drawn for it (so one
/// function's inputs, rewrites and mutants do not depend on which others are
/// processed) and its shard.
pub fn id_seed(id: &str) -> u64 {
    u64::from_str_radix(&id[..16.min(id.len())], 16).unwrap_or(0)
}

/// Shard I of N of a heavy stage (`--shard I/N`): the functions whose
/// [`id_seed`] is I modulo N. Shards are disjoint and cover every function,
/// whatever machine runs which; `tracecode merge` joins their outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Parses `I/N` (0 ≤ I < N).
    pub fn parse(s: &str) -> Result<Shard> {
        let (i, n) = s
            .split_once('/')
            .with_context(|| format!("--shard takes I/N, got {s:?}"))?;
        let parse = |x: &str| {
            x.trim()
                .parse::<u64>()
                .with_context(|| format!("--shard takes I/N with whole numbers, got {s:?}"))
        };
        let (index, count) = (parse(i)?, parse(n)?);
        if count == 0 || index >= count {
            bail!("--shard {s}: need 0 <= I < N");
        }
        Ok(Shard { index, count })
    }

    /// `None` when no shard is given: every function.
    pub fn parse_opt(s: Option<&str>) -> Result<Option<Shard>> {
        s.map(Shard::parse).transpose()
    }

    pub fn contains(&self, function_id: &str) -> bool {
        id_seed(function_id) % self.count == self.index
    }
}

/// A function ready to run: its code, the module it runs in and its CFG.
pub struct Code<'a> {
    pub code: &'a str,
    pub module_source: String,
    pub line_offset: u32,
    pub cfg: &'a Cfg,
}

impl<'a> Code<'a> {
    pub fn new(context: &str, code: &'a str, cfg: &'a Cfg) -> Self {
        Code {
            code,
            module_source: format!("{context}{code}\n"),
            line_offset: context.lines().count() as u32,
            cfg,
        }
    }
}

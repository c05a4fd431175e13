//! The standalone check: can this function run in isolation (with its
//! context) and give the same answer every time, without touching the world?
//!
//! Each reason is judged from the dotted names the function reads, resolved
//! through the module's imports (`from os import path` makes `path.join`
//! read as `os.path.join`), so `os.path.join` stays pure while `os.listdir` is I/O.

use std::collections::BTreeSet;

/// Why a function is not standalone. Stable strings: they are dataset values.
pub mod reason {
    /// A method that reads `self`/`cls` (or uses `super()`): it needs an instance or class.
    pub const USES_SELF: &str = "uses_self";
    pub const ASYNC: &str = "async";
    pub const DECORATED: &str = "decorated";
    pub const UNDEFINED_NAME: &str = "undefined_name";
    pub const NON_STDLIB_IMPORT: &str = "non_stdlib_import";
    pub const RELATIVE_IMPORT: &str = "relative_import";
    pub const IO: &str = "io";
    pub const NETWORK: &str = "network";
    pub const PROCESS: &str = "process";
    pub const RANDOMNESS_TIME: &str = "randomness_time";
    pub const INPUT: &str = "input";
    pub const MODULE_STATE: &str = "module_state";
    pub const DYNAMIC_CODE: &str = "dynamic_code";
}

/// Decorators that do not change how the function is called or what it returns.
const HARMLESS_DECORATORS: &[&str] = &[
    "staticmethod",
    "functools.cache",
    "functools.lru_cache",
    "functools.wraps",
    "cache",
    "lru_cache",
    "typing.overload",
    "overload",
];

/// Module prefixes whose use means file-system or process I/O (checked after `PURE`).
const IO_MODULES: &[&str] = &[
    "os",
    "io",
    "shutil",
    "tempfile",
    "glob",
    "fileinput",
    "pathlib",
    "sqlite3",
    "dbm",
    "shelve",
    "mmap",
    "zipfile",
    "tarfile",
    "gzip.open",
    "bz2.open",
    "lzma.open",
    "sys.stdin",
    "sys.stdout",
    "sys.stderr",
    "sys.argv",
    "sys.path",
    "sys.modules",
    "sys.exit",
    "logging",
    "tkinter",
    "curses",
    "readline",
    "getpass",
    "pwd",
    "grp",
    "fcntl",
    "termios",
    "msvcrt",
    "winreg",
    "nturl2path",
    "posix",
    "nt",
    "resource",
    "syslog",
    "site",
    "importlib",
    "pkgutil",
    "runpy",
    "linecache",
    "tokenize.open",
    "codecs.open",
    "locale.setlocale",
    "atexit",
    "gc",
    "faulthandler",
    "tracemalloc",
    "builtins.open",
];
const NETWORK_MODULES: &[&str] = &[
    "socket",
    "ssl",
    "http",
    "urllib.request",
    "urllib.robotparser",
    "ftplib",
    "smtplib",
    "poplib",
    "imaplib",
    "telnetlib",
    "nntplib",
    "xmlrpc",
    "asyncio",
    "selectors",
    "select",
    "socketserver",
    "webbrowser",
    "wsgiref",
    "mailbox",
    "smtpd",
    "asyncore",
    "asynchat",
];
const PROCESS_MODULES: &[&str] = &[
    "subprocess",
    "multiprocessing",
    "threading",
    "_thread",
    "concurrent",
    "signal",
    "ctypes",
    "os.system",
    "os.fork",
    "os.kill",
    "os.exec",
    "os.spawn",
    "os.popen",
    "pty",
    "sched",
    "queue",
];
const NONDETERMINISTIC: &[&str] = &[
    "random",
    "secrets",
    "uuid.uuid1",
    "uuid.uuid4",
    "time",
    "os.urandom",
    "os.getpid",
    "datetime.datetime.now",
    "datetime.datetime.today",
    "datetime.datetime.utcnow",
    "datetime.date.today",
    "datetime.now",
    "datetime.today",
    "datetime.utcnow",
    "date.today",
];
/// Exceptions to the lists above: reading these is pure computation.
const PURE: &[&str] = &[
    "os.path.join",
    "os.path.split",
    "os.path.splitext",
    "os.path.basename",
    "os.path.dirname",
    "os.path.normpath",
    "os.path.normcase",
    "os.path.isabs",
    "os.path.commonprefix",
    "os.path.commonpath",
    "os.path.splitdrive",
    "os.path.relpath",
    "os.sep",
    "os.linesep",
    "os.pathsep",
    "os.curdir",
    "os.pardir",
    "os.extsep",
    "os.altsep",
    "os.fspath",
    "os.fsencode",
    "os.fsdecode",
    "os.name",
    "io.StringIO",
    "io.BytesIO",
    "io.TextIOWrapper",
    "time.struct_time",
    "time.strftime",
    "time.gmtime",
    "random.Random",
    "sys.maxsize",
    "sys.version_info",
    "sys.byteorder",
    "sys.platform",
    "sys.intern",
    "sys.getrecursionlimit",
    "sys.float_info",
    "sys.int_info",
    "sys.hexversion",
    "sys.implementation",
    "sys.maxunicode",
    "sys.getsizeof",
    "sys.getdefaultencoding",
    "sys.getfilesystemencoding",
    "importlib.import_module",
];
const DYNAMIC_BUILTINS: &[&str] = &[
    "exec",
    "eval",
    "compile",
    "__import__",
    "globals",
    "breakpoint",
];
const PROCESS_BUILTINS: &[&str] = &["exit", "quit"];

fn matches_prefix(chain: &str, prefixes: &[&str]) -> bool {
    prefixes
        .iter()
        .any(|p| chain == *p || (chain.starts_with(p) && chain.as_bytes()[p.len()] == b'.'))
}

fn is_pure(chain: &str) -> bool {
    matches_prefix(chain, PURE)
}

/// Everything the classifier needs to know about one function.
pub struct Facts<'a> {
    /// A method whose first parameter is read, or that uses `super()`/`__class__`.
    /// A method that never touches its instance runs with `None` in its place.
    pub uses_self: bool,
    pub is_async: bool,
    pub decorators: &'a [String],
    /// Dotted chains read by the function *and its context*, resolved through imports
    /// to full module paths (e.g. `os.path.join`, `random.randint`).
    pub resolved_chains: &'a BTreeSet<String>,
    /// Builtin names read by the function and its context.
    pub builtins: &'a BTreeSet<String>,
    pub undefined: &'a BTreeSet<String>,
    pub non_stdlib_imports: bool,
    pub relative_imports: bool,
    pub declares_global: bool,
}

/// Reasons the function is not standalone, sorted and unique; empty means standalone.
pub fn standalone_reasons(f: &Facts) -> Vec<String> {
    let mut reasons = BTreeSet::new();
    if f.uses_self {
        reasons.insert(reason::USES_SELF);
    }
    if f.is_async {
        reasons.insert(reason::ASYNC);
    }
    if f.decorators.iter().any(|d| {
        let head = d.split('(').next().unwrap_or(d).trim();
        !HARMLESS_DECORATORS.contains(&head)
    }) {
        reasons.insert(reason::DECORATED);
    }
    if !f.undefined.is_empty() {
        reasons.insert(reason::UNDEFINED_NAME);
    }
    if f.non_stdlib_imports {
        reasons.insert(reason::NON_STDLIB_IMPORT);
    }
    if f.relative_imports {
        reasons.insert(reason::RELATIVE_IMPORT);
    }
    if f.declares_global {
        reasons.insert(reason::MODULE_STATE);
    }
    for b in f.builtins {
        match b.as_str() {
            "open" => {
                reasons.insert(reason::IO);
            }
            "input" => {
                reasons.insert(reason::INPUT);
            }
            b if DYNAMIC_BUILTINS.contains(&b) => {
                reasons.insert(reason::DYNAMIC_CODE);
            }
            b if PROCESS_BUILTINS.contains(&b) => {
                reasons.insert(reason::PROCESS);
            }
            _ => {}
        }
    }
    for chain in f.resolved_chains {
        if is_pure(chain) {
            continue;
        }
        // Only the longest chains matter: `os` alone is read whenever `os.path.join` is.
        let has_longer = f
            .resolved_chains
            .range(format!("{chain}.")..)
            .next()
            .is_some_and(|c| c.starts_with(&format!("{chain}.")));
        if has_longer {
            continue;
        }
        if matches_prefix(chain, NETWORK_MODULES) {
            reasons.insert(reason::NETWORK);
        } else if matches_prefix(chain, PROCESS_MODULES) {
            reasons.insert(reason::PROCESS);
        } else if matches_prefix(chain, NONDETERMINISTIC) {
            reasons.insert(reason::RANDOMNESS_TIME);
        } else if matches_prefix(chain, IO_MODULES) {
            reasons.insert(reason::IO);
        }
    }
    reasons.into_iter().map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons_for(chains: &[&str], builtins: &[&str]) -> Vec<String> {
        let chains: BTreeSet<String> = chains.iter().map(|s| s.to_string()).collect();
        let builtins: BTreeSet<String> = builtins.iter().map(|s| s.to_string()).collect();
        let none = BTreeSet::new();
        standalone_reasons(&Facts {
            uses_self: false,
            is_async: false,
            decorators: &[],
            resolved_chains: &chains,
            builtins: &builtins,
            undefined: &none,
            non_stdlib_imports: false,
            relative_imports: false,
            declares_global: false,
        })
    }

    #[test]
    fn pure_attributes_of_impure_modules_stay_standalone() {
        assert!(reasons_for(&["os", "os.path", "os.path.join"], &["len"]).is_empty());
        assert!(reasons_for(&["io", "io.StringIO"], &[]).is_empty());
        assert!(reasons_for(&["re", "re.compile", "math.sqrt"], &[]).is_empty());
    }

    #[test]
    fn impure_uses_are_named() {
        assert_eq!(reasons_for(&["os", "os.listdir"], &[]), vec!["io"]);
        assert_eq!(
            reasons_for(&["socket", "socket.socket"], &[]),
            vec!["network"]
        );
        assert_eq!(
            reasons_for(&["random", "random.randint"], &[]),
            vec!["randomness_time"]
        );
        assert_eq!(
            reasons_for(&["datetime.datetime.now"], &[]),
            vec!["randomness_time"]
        );
        assert_eq!(reasons_for(&["subprocess.run"], &[]), vec!["process"]);
        assert_eq!(
            reasons_for(&["urllib.parse.quote"], &[]),
            Vec::<String>::new()
        );
        assert_eq!(
            reasons_for(&["urllib.request.urlopen"], &[]),
            vec!["network"]
        );
        assert_eq!(
            reasons_for(&[], &["open", "input", "eval"]),
            vec!["dynamic_code", "input", "io"]
        );
    }

    #[test]
    fn shape_reasons() {
        let none = BTreeSet::new();
        let decorators = vec![
            "property".to_string(),
            "functools.lru_cache(maxsize=None)".to_string(),
        ];
        let r = standalone_reasons(&Facts {
            uses_self: true,
            is_async: true,
            decorators: &decorators,
            resolved_chains: &none,
            builtins: &none,
            undefined: &["x".to_string()].into_iter().collect(),
            non_stdlib_imports: true,
            relative_imports: false,
            declares_global: true,
        });
        assert_eq!(
            r,
            vec![
                "async",
                "decorated",
                "module_state",
                "non_stdlib_import",
                "undefined_name",
                "uses_self"
            ]
        );
    }
}

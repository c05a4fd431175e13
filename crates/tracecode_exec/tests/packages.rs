//! Packages on the workers' path: a directory of pure-Python packages is
//! appended to `sys.path` and its modules imported before the sandbox is
//! armed, so user code imports them without reading anything else.
mod common;

use common::*;
use tracecode_exec::{Limits, RunRequest, RunStatus, Supervisor};

#[test]
fn preloaded_packages_import_and_the_rest_of_the_disk_stays_closed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("site");
    std::fs::create_dir_all(root.join("pkgdemo")).unwrap();
    std::fs::write(
        root.join("pkgdemo/__init__.py"),
        "from pkgdemo.ops import triple\n",
    )
    .unwrap();
    std::fs::write(
        root.join("pkgdemo/ops.py"),
        "def triple(x):\n    return 3 * x\n",
    )
    .unwrap();
    let secret = tmp.path().join("secret.txt");
    std::fs::write(&secret, "no").unwrap();

    let mut cfg = config();
    cfg.workers = 1;
    cfg.python_path = vec![root.clone()];
    cfg.preload = vec!["pkgdemo".into(), "tracecode_no_such_module".into()];
    let sup = Supervisor::new(cfg).expect("supervisor starts");
    let errors = &sup.sandbox_report().preload_errors;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("tracecode_no_such_module: ModuleNotFoundError"));

    let run = |src: &str, call: &str| sup.run(&RunRequest::new(src, call), &Limits::default());
    let r = run(
        "from pkgdemo.ops import triple\ndef f(x):\n    return triple(x) + 1\n",
        "f(4)",
    );
    assert_eq!(r.status, RunStatus::Returned, "{}", brief(&r));
    assert_eq!(r.return_repr.as_deref(), Some("13"));
    // Loaded before the run: nothing is imported under the run's limits.
    let r = run(
        "import sys\ndef f():\n    return 'pkgdemo.ops' in sys.modules\n",
        "f()",
    );
    assert_eq!(r.return_repr.as_deref(), Some("True"), "{}", brief(&r));
    // The package directory is on the path; a file beside it is not readable.
    let r = run(
        &format!(
            "def f():\n    return open({:?}).read()\n",
            secret.to_str().unwrap()
        ),
        "f()",
    );
    assert_eq!(r.status, RunStatus::SandboxDenied, "{}", brief(&r));
}

//! seccomp-bpf backstop. Default action: allow; listed syscalls fail with
//! EPERM (the worker stays alive to report instead of being killed).
//!
//! Denied outright: process creation (fork/vfork/clone/clone3/execve*),
//! sockets (socket/socketpair/connect/bind/listen/accept*), signals to any
//! process (kill/tkill/tgkill/pidfd_*/rt_*sigqueueinfo), debugging and
//! kernel-level escapes (ptrace, process_vm_*, bpf, perf_event_open,
//! io_uring_*, userfaultfd, mount/unshare/setns/chroot, module loading,
//! keyrings), file-system mutation (unlink/rename/mkdir/link/chmod/...),
//! identity changes (setuid & co, capset) and chdir.
//!
//! The control socket (fd `ctl`) gets argument-level rules: the worker talks
//! on it only through `sendto`/`recvfrom`, so `read`/`write`-family calls,
//! `close`, `dup*`, `fcntl(F_DUPFD*)`, `sendfile`/`splice`/`copy_file_range`
//! and `tee`/`vmsplice` naming it are refused: user code cannot forge a reply,
//! steal a request, or close/replace the channel.

use std::collections::BTreeMap;

use seccompiler::{
    apply_filter, BpfProgram, SeccompAction, SeccompCmpArgLen as Len, SeccompCmpOp as Op,
    SeccompCondition as Cond, SeccompFilter, SeccompRule, TargetArch,
};

fn arch() -> Result<TargetArch, String> {
    TargetArch::try_from(std::env::consts::ARCH).map_err(|e| e.to_string())
}

/// Build and install the filter for the calling thread (the worker has only one).
pub fn apply(ctl: i32) -> Result<(), String> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    let deny_all: &[i64] = &[
        libc::SYS_clone,
        libc::SYS_clone3,
        libc::SYS_execve,
        libc::SYS_execveat,
        libc::SYS_socket,
        libc::SYS_socketpair,
        libc::SYS_connect,
        libc::SYS_bind,
        libc::SYS_listen,
        libc::SYS_accept,
        libc::SYS_accept4,
        libc::SYS_kill,
        libc::SYS_tkill,
        libc::SYS_tgkill,
        libc::SYS_rt_sigqueueinfo,
        libc::SYS_rt_tgsigqueueinfo,
        libc::SYS_pidfd_open,
        libc::SYS_pidfd_send_signal,
        libc::SYS_pidfd_getfd,
        libc::SYS_ptrace,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        libc::SYS_bpf,
        libc::SYS_perf_event_open,
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
        libc::SYS_userfaultfd,
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_pivot_root,
        libc::SYS_chroot,
        libc::SYS_unshare,
        libc::SYS_setns,
        libc::SYS_init_module,
        libc::SYS_finit_module,
        libc::SYS_delete_module,
        libc::SYS_kexec_load,
        libc::SYS_reboot,
        libc::SYS_add_key,
        libc::SYS_request_key,
        libc::SYS_keyctl,
        libc::SYS_unlinkat,
        libc::SYS_renameat,
        libc::SYS_renameat2,
        libc::SYS_mkdirat,
        libc::SYS_mknodat,
        libc::SYS_linkat,
        libc::SYS_symlinkat,
        libc::SYS_fchmodat,
        libc::SYS_fchmod,
        libc::SYS_fchownat,
        libc::SYS_fchown,
        libc::SYS_truncate,
        libc::SYS_chdir,
        libc::SYS_fchdir,
        libc::SYS_setuid,
        libc::SYS_setgid,
        libc::SYS_setreuid,
        libc::SYS_setregid,
        libc::SYS_setresuid,
        libc::SYS_setresgid,
        libc::SYS_setgroups,
        libc::SYS_capset,
        libc::SYS_acct,
        libc::SYS_swapon,
        libc::SYS_swapoff,
        libc::SYS_settimeofday,
        libc::SYS_clock_settime,
        libc::SYS_sethostname,
        libc::SYS_setdomainname,
    ];
    #[cfg(target_arch = "x86_64")]
    let legacy: &[i64] = &[
        libc::SYS_fork,
        libc::SYS_vfork,
        libc::SYS_unlink,
        libc::SYS_rename,
        libc::SYS_mkdir,
        libc::SYS_rmdir,
        libc::SYS_mknod,
        libc::SYS_link,
        libc::SYS_symlink,
        libc::SYS_chmod,
        libc::SYS_chown,
        libc::SYS_lchown,
        libc::SYS_creat,
        libc::SYS_iopl,
        libc::SYS_ioperm,
    ];
    #[cfg(not(target_arch = "x86_64"))]
    let legacy: &[i64] = &[];
    for &nr in deny_all.iter().chain(legacy) {
        rules.insert(nr, vec![]);
    }

    let ctl = ctl as u64;
    let e = |e: seccompiler::BackendError| e.to_string();
    let arg_is = |idx: u8, v: u64| -> Result<SeccompRule, String> {
        SeccompRule::new(vec![Cond::new(idx, Len::Dword, Op::Eq, v).map_err(e)?]).map_err(e)
    };
    // Syscalls whose first argument is a fd that must not be the control socket.
    let mut fd0: Vec<i64> = vec![
        libc::SYS_read,
        libc::SYS_readv,
        libc::SYS_pread64,
        libc::SYS_preadv,
        libc::SYS_preadv2,
        libc::SYS_write,
        libc::SYS_writev,
        libc::SYS_pwrite64,
        libc::SYS_pwritev,
        libc::SYS_pwritev2,
        libc::SYS_close,
        libc::SYS_dup,
        libc::SYS_dup3,
        libc::SYS_sendfile,
        libc::SYS_vmsplice,
        libc::SYS_shutdown,
        libc::SYS_ftruncate,
    ];
    #[cfg(target_arch = "x86_64")]
    fd0.push(libc::SYS_dup2);
    for nr in fd0 {
        rules.entry(nr).or_default().push(arg_is(0, ctl)?);
    }
    // dup2/dup3 onto the control fd, splice/copy_file_range/tee into it.
    #[cfg(target_arch = "x86_64")]
    rules
        .entry(libc::SYS_dup2)
        .or_default()
        .push(arg_is(1, ctl)?);
    rules
        .entry(libc::SYS_dup3)
        .or_default()
        .push(arg_is(1, ctl)?);
    rules
        .entry(libc::SYS_splice)
        .or_default()
        .push(arg_is(2, ctl)?);
    rules
        .entry(libc::SYS_splice)
        .or_default()
        .push(arg_is(0, ctl)?);
    rules
        .entry(libc::SYS_copy_file_range)
        .or_default()
        .push(arg_is(2, ctl)?);
    rules
        .entry(libc::SYS_tee)
        .or_default()
        .push(arg_is(1, ctl)?);
    rules
        .entry(libc::SYS_tee)
        .or_default()
        .push(arg_is(0, ctl)?);
    // fcntl(ctl, F_DUPFD | F_DUPFD_CLOEXEC | F_SETFL ...): refuse all fcntl on ctl.
    rules
        .entry(libc::SYS_fcntl)
        .or_default()
        .push(arg_is(0, ctl)?);
    // prlimit64 on another process.
    rules
        .entry(libc::SYS_prlimit64)
        .or_default()
        .push(SeccompRule::new(vec![Cond::new(0, Len::Dword, Op::Ne, 0).map_err(e)?]).map_err(e)?);

    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch()?,
    )
    .map_err(|e| e.to_string())?;
    let prog: BpfProgram = filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| e.to_string())?;
    apply_filter(&prog).map_err(|e| e.to_string())
}

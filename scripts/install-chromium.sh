#!/usr/bin/env bash
# Installs headless Chromium for the tracecode_report browser test
# (crates/tracecode_report/tests/chromium.rs). Idempotent: does nothing when
# /usr/bin/chromium exists. Debian/Ubuntu with apt-get, run as root.
#
#   scripts/install-chromium.sh
#
# One "[tracecode]" line per step on stderr; exits non-zero with the reason
# when the install is impossible or fails.
set -euo pipefail

_tc_msg() { printf '[tracecode] %s\n' "$*" >&2; }
_tc_err() { printf '[tracecode] ERROR: %s\n' "$*" >&2; }

if [ -x /usr/bin/chromium ]; then
    _tc_msg "chromium: /usr/bin/chromium already installed"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    _tc_err "no /usr/bin/chromium and no apt-get; install Chromium by hand and set TRACECODE_CHROMIUM=/path/to/chromium"
    exit 1
fi
if [ "$(id -u)" != 0 ]; then
    _tc_err "installing Chromium needs root (apt-get); rerun as root or set TRACECODE_CHROMIUM=/path/to/chromium"
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
install() { apt-get install -y -q --no-install-recommends chromium >&2; }

_tc_msg "chromium: installing with apt-get"
if ! install; then
    # The package lists may be missing or stale (fresh container): refresh once.
    _tc_msg "chromium: install failed; running apt-get update and retrying"
    apt-get update -q >&2 || { _tc_err "apt-get update failed"; exit 1; }
    install || { _tc_err "apt-get install chromium failed (see above)"; exit 1; }
fi
if [ ! -x /usr/bin/chromium ]; then
    _tc_err "apt-get finished but /usr/bin/chromium is missing"
    exit 1
fi
_tc_msg "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo installed)"

#!/usr/bin/env bash
# Install the Debian packages given as arguments, only those missing.
#
# As root: `apt-get update` once (only when something is missing), then a non-interactive
# `apt-get install`. As another user, or without apt: say what is missing and how to get it;
# that is an error only under CI=true, where the test run would fail on it anyway.
set -euo pipefail

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
    for pkg in "$@"; do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
    done
else
    # Not Debian: check for the commands the packages provide, where there is one.
    for pkg in "$@"; do
        case "$pkg" in
            ffmpeg) cmd=ffprobe ;;
            redis-server) cmd=redis-server ;;
            chromium) cmd=chromium ;;
            zbar-tools) cmd=zbarimg ;;
            espeak-ng) cmd=espeak-ng ;;
            postgresql) cmd=pg_ctl ;;
            wrk) cmd=wrk ;;
            *) continue ;;
        esac
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
    done
fi

[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "installing system packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq </dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
    exit 0
fi

echo "missing system packages: ${missing[*]}" >&2
echo "  install them with: sudo apt-get install ${missing[*]}" >&2
if [[ "${CI:-}" == "true" ]]; then
    exit 1
fi
exit 0

#!/usr/bin/env bash
# Create the virtual environment DIR with a Python >= 3.11.
#
# Uses $PYTHON when set, else the first of python3, python3.13, python3.12, python3.11 that
# is new enough. Debian splits venv support into python3-venv: installed here when root.
set -euo pipefail

venv=${1:?usage: make-venv.sh DIR}

new_enough() {
    "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1
}

python=""
tried=()
for candidate in ${PYTHON:-python3 python3.13 python3.12 python3.11}; do
    if ! command -v "$candidate" >/dev/null 2>&1; then
        tried+=("$candidate: not found")
    elif new_enough "$candidate"; then
        python=$(command -v "$candidate")
        break
    else
        tried+=("$candidate: $("$candidate" --version 2>&1 | head -n 1 || true)")
    fi
done
if [[ -z "$python" ]]; then
    echo "billreel needs Python 3.11 or newer; tried:" >&2
    printf '  %s\n' "${tried[@]}" >&2
    echo "Install it (Debian 12: apt-get install python3 python3-venv) or run" >&2
    echo "  make PYTHON=/path/to/python3.11 ..." >&2
    exit 1
fi

if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        minor=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
        bash "$(dirname "$0")/install-system-deps.sh" python3-venv "python${minor}-venv"
    else
        echo "$python cannot create virtual environments: install python3-venv" >&2
        exit 1
    fi
fi

echo "creating $venv with $python ($("$python" --version 2>&1))" >&2
# A half-made environment would look complete to make next time: remove it on failure.
trap 'rm -rf "$venv"' ERR
"$python" -m venv "$venv"
"$venv/bin/python" -m pip --version >/dev/null

# Sourced by the bin/ launchers: make sure .venv exists and holds the project.
# Reinstalls only when pyproject.toml changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.installed-pyproject"
PY="${PYTHON:-python3}"

_oa_need_install() {
    [ ! -x "$VENV/bin/python" ] && return 0
    [ ! -f "$STAMP" ] && return 0
    ! cmp -s "$ROOT/pyproject.toml" "$STAMP"
}

if _oa_need_install; then
    echo "option-alpha: setting up $VENV (first run only)..." >&2
    if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "option-alpha: Python 3.11+ is required (found: $("$PY" --version 2>&1))" >&2
        exit 2
    fi
    [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT[test]" >&2
    cp "$ROOT/pyproject.toml" "$STAMP"
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

# Shared by scripts/test and scripts/demo: a .venv with the package installed in it.
# Callers set SCRIPT (for messages) and cd to the repository root first.
# Set PYTHON to choose the interpreter used to create .venv (default python3).

PYTHON=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.supportdesk-installed # "<sha256 of pyproject.toml> <pip target>"

die() {
    echo "$SCRIPT: $*" >&2
    exit 1
}

ensure_venv() {
    if "$VENV/bin/python" -c '' 2>/dev/null; then
        return
    fi
    command -v "$PYTHON" >/dev/null || die "$PYTHON not found; install Python 3.11+ or set PYTHON"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
        die "$("$PYTHON" -V 2>&1) is too old; supportdesk needs Python 3.11+ (set PYTHON)"
    [[ ! -e $VENV ]] || echo "$SCRIPT: $VENV is broken; recreating it"
    echo "$SCRIPT: creating $VENV with $("$PYTHON" -V 2>&1)"
    if ! "$PYTHON" -m venv --clear "$VENV"; then
        # Debian/Ubuntu's own python3 needs the python3.X-venv package for this.
        local ver
        ver=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
        command -v apt-get >/dev/null || die "could not create $VENV"
        bash scripts/install-system-deps "python$ver-venv"
        "$PYTHON" -m venv --clear "$VENV" || die "could not create $VENV"
    fi
}

ensure_installed() { # $1: pip target, e.g. '.[test]'
    local want
    want="$("$VENV/bin/python" -c 'import hashlib
print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())') $1"
    if [[ -f $STAMP && $(<"$STAMP") == "$want" ]] &&
        "$VENV/bin/python" -c 'import importlib.metadata as m; m.version("supportdesk")' 2>/dev/null
    then
        return # up to date: editable install, only pyproject.toml changes matter
    fi
    echo "$SCRIPT: pip install -e '$1'"
    rm -f "$STAMP"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -e "$1"
    echo "$want" >"$STAMP"
}


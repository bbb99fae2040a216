# Shared by scripts/run and scripts/test: create .venv and install the project into it when the
# project's dependencies changed since the last install (the stamp is pyproject.toml's hash).
PYTHON="${PYTHON:-python3}"

ensure_venv() {
  local extras="${1:-}"
  local stamp=".venv/.installed${extras:+-$extras}"
  local want
  want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
      echo "Python 3.11 or newer is needed (found $("$PYTHON" --version 2>&1))" >&2; exit 2; }
    echo "creating .venv …"
    "$PYTHON" -m venv .venv
  fi
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "installing dependencies into .venv … (log: .venv/install.log)"
    # The log keeps pip's and setuptools' chatter off the screen; shown only when it fails.
    if ! { .venv/bin/python -m pip install --upgrade pip \
           && .venv/bin/python -m pip install -e ".${extras:+[$extras]}"; } > .venv/install.log 2>&1; then
      cat .venv/install.log >&2
      echo "installing dependencies failed (see above)" >&2
      exit 1
    fi
    echo "$want" > "$stamp"
  fi
}

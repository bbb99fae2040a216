# Shared by scripts/run and scripts/test: create .venv and install into it exactly the pinned
# dependency tree (requirements/run.lock, or requirements/dev.lock with the test tools; every
# file checked against its SHA-256), then the project itself. Reinstalls when the lock or
# pyproject.toml changed since the last install (the stamp is their hash). scripts/lock
# re-resolves the locks.
PYTHON="${PYTHON:-python3}"

ensure_venv() {
  local extras="${1:-}"
  local lock="requirements/${extras:-run}.lock"
  local stamp=".venv/.installed${extras:+-$extras}"
  local want
  want="$(cat "$lock" pyproject.toml | sha256sum | cut -d' ' -f1)"
  if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
      echo "Python 3.11 or newer is needed (found $("$PYTHON" --version 2>&1))" >&2; exit 2; }
    echo "creating .venv …"
    "$PYTHON" -m venv .venv
  fi
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "installing dependencies into .venv from $lock … (log: .venv/install.log)"
    # The log keeps pip's and setuptools' chatter off the screen; shown only when it fails.
    # --no-build-isolation: the project builds with the pinned setuptools just installed.
    if ! { .venv/bin/python -m pip install --require-hashes -r "$lock" \
           && .venv/bin/python -m pip install --no-deps --no-build-isolation -e . ; } \
         > .venv/install.log 2>&1; then
      cat .venv/install.log >&2
      echo "installing dependencies failed (see above)" >&2
      exit 1
    fi
    echo "$want" > "$stamp"
  fi
}

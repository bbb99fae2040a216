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
    echo "installing dependencies into .venv …"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}"
    echo "$want" > "$stamp"
  fi
}

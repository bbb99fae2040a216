# Shared by scripts/test: Debian packages some tests need. Installed when we can (root with apt);
# otherwise the tests that need them skip with a message naming the package, except with
# CI=true, where a missing package fails the run.
SYSTEM_PACKAGES=(
  "fonts-wqy-microhei:/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"  # Chinese text in images
  "poppler-utils:/usr/bin/pdftotext"  # reading back the rectification notices' PDFs
  "chromium:/usr/bin/chromium"  # the PWA's browser tests (tests/pwa), driven by playwright
)

ensure_system_packages() {
  local missing=() entry pkg path
  for entry in "${SYSTEM_PACKAGES[@]}"; do
    pkg="${entry%%:*}"; path="${entry#*:}"
    [ -e "$path" ] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "installing system packages: ${missing[*]} …"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
      apt-get update -q >/dev/null 2>&1 || true
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || true
    fi
  fi
  missing=()
  for entry in "${SYSTEM_PACKAGES[@]}"; do
    pkg="${entry%%:*}"; path="${entry#*:}"
    [ -e "$path" ] || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "${CI:-false}" = "true" ]; then
      echo "FAIL: CI=true needs these Debian packages: ${missing[*]} (apt-get install ${missing[*]})" >&2
      exit 1
    fi
    echo "NOTE: missing Debian packages: ${missing[*]}; the tests needing them will skip." >&2
    echo "      Install with: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
  fi
}

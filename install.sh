#!/usr/bin/env bash
# Install Tale on a fresh machine: a CJK font (Debian's fonts-noto-cjk: Korean, Japanese and
# Chinese text), a Latin-only font for the tests, the espeak-ng narrator and Chromium (the web
# app's browser tests), when missing and apt-get can be used; then the project and its tools
# into ./.venv, and the web app (web/) with npm. Without root, or without npm, it says what is
# missing and goes on.
set -euo pipefail
cd "$(dirname "$0")"

have_cjk_font() {
  local f
  for f in /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc \
           /usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc \
           /usr/share/fonts/opentype/noto-cjk/NotoSansCJK-Regular.ttc; do
    [ -f "$f" ] && return 0
  done
  [ -n "${TALE_FONT:-}" ] && [ -f "$TALE_FONT" ]
}

missing=()
# fonts-noto-cjk: Hangul, kana and Han (simplified and traditional) in clips, cards and sheets
have_cjk_font || missing+=(fonts-noto-cjk)
# fonts-dejavu-core: a font without CJK, for the tests of the font checks and fallbacks
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
# espeak-ng: the embedded default's narrator (a real synthesiser with ko, en, ja and zh voices)
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
# chromium: the browser the web app's tests drive (Playwright's own download does not work here)
[ -x /usr/bin/chromium ] || missing+=(chromium)

if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "install.sh: installing ${missing[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  else
    echo "install.sh: missing ${missing[*]}; install them as root" \
         "(apt-get install ${missing[*]}), or set TALE_FONT=/path/to/a-cjk-font for the font;" \
         "Japanese and Chinese text needs fonts-noto-cjk" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev,local]'

# The web app (web/): `tale serve` serves its build at / and terraform uploads the same files.
# Without npm everything else still works: say so and go on (/ then says how to build it).
if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
  if [ ! -f web/node_modules/.package-lock.json ] \
     || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
    echo "install.sh: installing the web app's packages (npm ci in web/)" >&2
    npm --prefix web ci --no-audit --no-fund --loglevel=error >&2
  fi
  echo "install.sh: building the web app (npm run build in web/)" >&2
  npm --prefix web run --silent build >/dev/null
else
  echo "install.sh: npm not found, so the web app (web/) is not built; install Node.js 20" \
       "and npm, then run ./install.sh again" >&2
fi
echo "install.sh: ready — .venv/bin/tale --help" >&2

#!/usr/bin/env bash
# Install Tale on a fresh machine: a Hangul font (Debian's fonts-nanum, when no CJK font is
# present and apt-get can be used) and the espeak-ng narrator, then the project and its tools
# into ./.venv.
set -euo pipefail
cd "$(dirname "$0")"

have_hangul_font() {
  local f
  for f in /usr/share/fonts/truetype/nanum/NanumGothic.ttf \
           /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc \
           /usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc; do
    [ -f "$f" ] && return 0
  done
  [ -n "${TALE_FONT:-}" ] && [ -f "$TALE_FONT" ]
}

if ! have_hangul_font || [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] \
   || ! command -v espeak-ng >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    # fonts-nanum: Korean text in clips and sheets; fonts-dejavu-core: a font without Hangul
    # that the tests use to check the "no Hangul font" error; espeak-ng: the embedded
    # default's narrator (a real synthesiser with ko, en, ja and zh voices).
    echo "install.sh: installing fonts-nanum, fonts-dejavu-core and espeak-ng" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      fonts-nanum fonts-dejavu-core espeak-ng >/dev/null
  else
    echo "install.sh: missing a Hangul font or espeak-ng; install fonts-nanum (or" \
         "fonts-noto-cjk, or set TALE_FONT=/path/to/font.ttf) and espeak-ng" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
echo "install.sh: ready — .venv/bin/tale --help" >&2

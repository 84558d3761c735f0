#!/usr/bin/env bash
# Installs what outreach needs on a Debian machine: system packages (as root, or prints the exact
# command), then a virtual environment in .venv with the package and its test tools.
set -euo pipefail
cd "$(dirname "$0")/.."

# softhsm2: the PKCS#11 token of the demo and the tests; libnss3-tools: certutil, for the NSS database
# pdfsig (poppler-utils) checks signatures against in the tests; zbar-tools: zbarimg, which reads the VietQR
# code back from a rendered letter in the tests.
# dovecot-imapd, exim4-daemon-light: a real IMAP server and a real MTA the collect tests start as ordinary
# processes (tests/imapserver.py, tests/mtaserver.py).
# libjemalloc2: LibreOffice converts with jemalloc's malloc, ~18 % less CPU per letter (outreach/convert/office.py).
SYSTEM_PACKAGES=(dovecot-imapd exim4-daemon-light libreoffice-writer-nogui python3-uno fonts-liberation2 poppler-utils chromium chromium-driver
                 softhsm2 libnss3-tools zbar-tools libjemalloc2)
missing=()
for package in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "Installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Thiếu gói hệ thống: ${missing[*]}" >&2
    echo "Hãy chạy lệnh sau rồi chạy lại:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 2
  fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'

#!/usr/bin/env bash
# Command (1): set everything up, then run the main job end to end on the bundled sample data,
# sending to an embedded SMTP server on 127.0.0.1 (nothing leaves the machine).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/outreach --root . demo "$@"

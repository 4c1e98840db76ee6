#!/usr/bin/env bash
# Regenerates the layout tables of docs/capture.md (between the BEGIN/END generated markers) from
# native/layer/capture_format.h. Usage: bash native/layer/tools/regen-doc.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
out=native/layer/build
mkdir -p "$out"
g++ -std=c++17 -Wall -Wextra -Wno-invalid-offsetof -o "$out/print-format" native/layer/tools/print-format.cc
"$out/print-format" > "$out/format-tables.md"
python3 - "$out/format-tables.md" <<'PY'
import re, sys
tables = open(sys.argv[1]).read()
doc = open('docs/capture.md').read()
begin = doc.index('<!-- BEGIN generated')
begin = doc.index('\n', begin) + 1
end = doc.index('<!-- END generated -->')
open('docs/capture.md', 'w').write(doc[:begin] + tables + doc[end:])
PY
echo "docs/capture.md tables regenerated"

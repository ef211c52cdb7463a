#!/usr/bin/env bash
# Extract translatable strings (English msgids), update the Indonesian and English catalogs,
# and compile them. Commit the .po AND .mo files (the service reads the compiled .mo).
#   scripts/i18n.sh            extract + update + compile
#   scripts/i18n.sh compile    compile only
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
DIR=whistle/translations
POT="$DIR/messages.pot"
if [[ "${1:-}" != "compile" ]]; then
  "$PYBABEL" extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
    --omit-header -o "$POT" .
  for lang in id en; do
    if [[ -f "$DIR/$lang/LC_MESSAGES/messages.po" ]]; then
      "$PYBABEL" update -i "$POT" -d "$DIR" -l "$lang" --no-fuzzy-matching
    else
      "$PYBABEL" init -i "$POT" -d "$DIR" -l "$lang"
    fi
  done
fi
"$PYBABEL" compile -d "$DIR" --statistics

#!/usr/bin/env bash
# Fails when production code uses a banned pattern:
# system(), popen(), memcmp() (use CRYPTO_memcmp for digests), JSON parsing
# outside the JSON adapter (common/json.cc, common/json_document.cc), and includes of another
# component's internal/ headers. A line may opt out by saying why, with a
# comment containing "banned-ok:".
set -uo pipefail
cd "$(dirname "$0")/.."
dirs=(common launcher attestor verifier)
status=0
report() { echo "banned pattern: $1"; status=1; }

while IFS= read -r hit; do report "$hit"; done < <(
  grep -rnE '\b(system|popen|memcmp)\s*\(' --include='*.cc' --include='*.h' "${dirs[@]}" 2>/dev/null \
    | grep -v 'banned-ok:' | grep -v '_test\.cc:')
while IFS= read -r hit; do report "$hit (JSON is parsed only in common/json.cc and common/json_document.cc)"; done < <(
  grep -rnE '(json|Json)::parse\s*\(' --include='*.cc' --include='*.h' "${dirs[@]}" 2>/dev/null \
    | grep -v '^common/json\.cc:' | grep -v 'banned-ok:')
for comp in "${dirs[@]}"; do
  while IFS= read -r hit; do report "$hit (another component's internal header)"; done < <(
    grep -rnE '#include "[a-z_]+/internal/' --include='*.cc' --include='*.h' "$comp" 2>/dev/null \
      | grep -v "#include \"$comp/internal/" | grep -v 'banned-ok:')
done
if [ $status -eq 0 ]; then echo "banned-pattern check: clean"; fi
exit $status

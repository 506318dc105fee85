#!/usr/bin/env bash
# End-to-end audit throughput, release build, all cores: sessions/s
# without certificates (plain), with the same 4 PEM certificates on every
# line (certs), and with 4 certificates no other line has (unique: each
# one's signature bytes changed, which parsing does not check).
# Usage: tools/audit-bench.sh [N]   (KEEP=1: keep the generated files)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
cargo build --release --quiet
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
[ -z "${KEEP:-}" ] || echo "files kept in $tmp" >&2
python3 - "$n" "$tmp" <<'PY'
import json, sys
n, tmp = int(sys.argv[1]), sys.argv[2]
alice = json.load(open("tests/sessions/alice-tls13.json"))
plain = {k: v for k, v in alice.items() if k not in ("client_chain", "server_chain")}
with open(f"{tmp}/plain.jsonl", "w") as f:
    for i in range(n):
        plain["id"] = f"s{i}"
        f.write(json.dumps(plain) + "\n")
with open(f"{tmp}/certs.jsonl", "w") as f:
    for i in range(n // 10):
        alice["id"] = f"c{i}"
        f.write(json.dumps(alice) + "\n")

import base64, textwrap
def der(pem):
    body = "".join(l for l in pem.splitlines() if not l.startswith("-----"))
    return bytearray(base64.b64decode(body))
def pem(d):
    b = base64.b64encode(bytes(d)).decode()
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(textwrap.wrap(b, 64)) + "\n-----END CERTIFICATE-----\n"
chains = {k: [der(p) for p in alice[k]] for k in ("client_chain", "server_chain")}
with open(f"{tmp}/unique.jsonl", "w") as f:
    for i in range(n // 10):
        rec = dict(alice, id=f"u{i}")
        for k, ders in chains.items():
            out = []
            for d in ders:
                d = bytearray(d)
                d[-4:] = i.to_bytes(4, "big")
                out.append(pem(d))
            rec[k] = out
        f.write(json.dumps(rec) + "\n")
PY
expr='( %{SSL_CIPHER} !~ m/^(EXP|NULL)-/ and %{SSL_CLIENT_S_DN_O} eq "Snake Oil, Ltd." and %{SSL_CLIENT_S_DN_OU} in {"Staff", "CA", "Dev"} and %{TIME_WDAY} >= 1 and %{TIME_WDAY} <= 5 and %{TIME_HOUR} >= 8 and %{TIME_HOUR} <= 20 ) or %{REMOTE_ADDR} =~ m/^192\.76\.162\.[0-9]+$/'
for kind in plain certs unique; do
  printf '%-6s ' "$kind"
  ./target/release/sslrequire audit --sessions "$tmp/$kind.jsonl" "$expr" 2>&1 >/dev/null | tail -1
done

#!/usr/bin/env bash
# Refreshes geodata/dbip-country.bin.gz, the offline IP → country table read by
# src/domain/geo.rs, from DB-IP's free "IP to Country Lite" database (CC BY 4.0,
# "IP Geolocation by DB-IP", https://db-ip.com) as packed on npm by ip-location-db
# (@ip-location-db/dbip-country). Needs npm and python3; run from anywhere.
#
#   scripts/refresh-geoip.sh            # newest version on npm
#   scripts/refresh-geoip.sh 2.3.2026060120
#
# Format of the file (gzip of):
#   b"QLGEOCC1", u32 LE IPv4 count, u32 LE IPv6 count,
#   IPv4 range starts as LEB128 varints, each the difference from the previous start
#   (the first from 0), then one two-byte country code per IPv4 range ("--": no data),
#   then the same two columns for IPv6 (128-bit starts).
# Every address from a start up to the next start belongs to that range, so the gaps
# of the source become "--" ranges and the table covers the whole address space.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
version=${1:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "@ip-location-db/dbip-country${version:+@$version}" >/dev/null
tar xzf ip-location-db-dbip-country-*.tgz
packed=$(basename ip-location-db-dbip-country-*.tgz .tgz)

python3 - "$work/package" "$repo/geodata/dbip-country.bin.gz" <<'PY'
import csv, gzip, struct, sys

src, out = sys.argv[1], sys.argv[2]

def table(path, bits):
    starts, codes, prev_end = [], [], -1
    for first, last, cc in csv.reader(open(path, newline="")):
        first, last = int(first), int(last)
        if first <= prev_end or last < first:
            sys.exit(f"{path}: ranges out of order at {first}")
        if len(cc) != 2 or not cc.isascii() or not cc.isalpha():
            sys.exit(f"{path}: odd country code {cc!r}")
        if first != prev_end + 1:
            starts.append(prev_end + 1); codes.append("--")
        if codes and codes[-1] == cc.upper():
            prev_end = last
            continue
        starts.append(first); codes.append(cc.upper())
        prev_end = last
    if prev_end != (1 << bits) - 1:
        starts.append(prev_end + 1); codes.append("--")
    return starts, codes

def varint(n):
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        if n:
            out.append(low | 0x80)
        else:
            out.append(low)
            return out

v4 = table(f"{src}/dbip-country-ipv4-num.csv", 32)
v6 = table(f"{src}/dbip-country-ipv6-num.csv", 128)
body = bytearray(b"QLGEOCC1") + struct.pack("<II", len(v4[0]), len(v6[0]))
for starts, codes in (v4, v6):
    prev = 0
    for s in starts:
        body += varint(s - prev)
        prev = s
    body += "".join(codes).encode("ascii")
with open(out, "wb") as f:
    f.write(gzip.compress(bytes(body), 9, mtime=0))
print(f"{out}: {len(v4[0])} IPv4 and {len(v6[0])} IPv6 ranges")
PY

echo "$packed" > "$repo/geodata/dbip-country.version"
echo "from $packed; check geodata/README.md and commit geodata/"

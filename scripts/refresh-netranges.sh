#!/usr/bin/env bash
# Refreshes geodata/datacenter-ranges.txt, the hosting and cloud providers' address
# ranges read by src/domain/netranges.rs. The ranges are those announced by each
# provider's autonomous systems (ASNs below), taken from the IP → ASN table that
# ip-location-db packs on npm (@ip-location-db/asn: RouteViews, the five RIRs' data via
# the NRO and DB-IP's "IP to ASN Lite", all CC BY 4.0). Needs npm and python3.
#
#   scripts/refresh-netranges.sh            # newest version on npm
#   scripts/refresh-netranges.sh 2.3.2026061719
#
# Keep CDN and relay networks out of the list (Cloudflare 13335, Akamai 20940/16625 and
# 36183, Fastly 54113): iCloud Private Relay and other privacy relays leave through them,
# and a relay user is a person, not a server. Those belong in geodata/relay-ranges.txt.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
version=${1:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "@ip-location-db/asn${version:+@$version}" >/dev/null
tar xzf ip-location-db-asn-*.tgz
packed=$(basename ip-location-db-asn-*.tgz .tgz)

python3 - "$work/package" "$repo/geodata/datacenter-ranges.txt" "$packed" <<'PY'
import csv, ipaddress, sys

src, out, packed = sys.argv[1:4]

# Provider name → its hosting ASNs. Only networks whose addresses are servers for rent.
PROVIDERS = {
    "AWS": [16509, 14618, 8987],
    "Google": [396982, 15169, 19527],
    "Microsoft": [8075],
    "Oracle Cloud": [31898],
    "Alibaba Cloud": [45102, 37963],
    "Tencent Cloud": [132203, 45090],
    "DigitalOcean": [14061],
    "OVH": [16276],
    "Hetzner": [24940, 213230],
    "Linode": [63949],
    "Vultr": [20473],
    "Scaleway": [12876],
    "Contabo": [51167],
    "Leaseweb": [60781, 16265, 28753],
    "M247": [9009],
    "Datacamp": [212238],
}
by_asn = {asn: name for name, asns in PROVIDERS.items() for asn in asns}

lines = [
    "# Hosting and cloud providers' address ranges (src/domain/netranges.rs), written by",
    "# scripts/refresh-netranges.sh from " + packed + " (ip-location-db on npm):",
    "# RouteViews (routeviews.org), NRO (nro.net) and DB-IP (https://db-ip.com) data, CC BY 4.0.",
    "# '[Provider]' starts a provider's section; then one CIDR per line; '#' starts a comment.",
]
total = 0
for name, asns in PROVIDERS.items():
    nets = []
    for fam, make in (("ipv4", ipaddress.IPv4Address), ("ipv6", ipaddress.IPv6Address)):
        ranges = []
        for first, last, asn, _org in csv.reader(open(f"{src}/asn-{fam}-num.csv", newline="")):
            if by_asn.get(int(asn)) == name:
                ranges.append((int(first), int(last)))
        ranges.sort()
        merged = []
        for first, last in ranges:
            if merged and first <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        for first, last in merged:
            nets.extend(ipaddress.summarize_address_range(make(first), make(last)))
    lines.append("")
    lines.append(f"[{name}]  # AS" + ", AS".join(map(str, asns)))
    lines.extend(str(n) for n in nets)
    total += len(nets)
    print(f"{name}: {len(nets)} networks", file=sys.stderr)
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"{out}: {total} networks", file=sys.stderr)
PY
echo "from $packed; commit geodata/"

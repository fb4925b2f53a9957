#!/usr/bin/env bash
# Install everything a fresh Debian (bookworm) machine lacks to build, run and test shoal,
# then build it. Run as root. Safe to run again: each step checks before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(crun runc conmon etcd-server etcd-client nats-server nftables iproute2 conntrack curl
          busybox-static docker-registry attr file ca-certificates apache2-utils openssl xz-utils bzip2 zstd)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian starts none of these by itself here, but on a systemd machine the packaged services
# would compete with shoal's own supervised copies: keep them off.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  for s in etcd nats-server docker-registry; do systemctl disable --now "$s" >/dev/null 2>&1 || true; done
fi

command -v node >/dev/null || { echo "setup: Node.js 20 or newer is required" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || { echo "setup: Node.js $major found, 20 or newer is required" >&2; exit 1; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # npm ci refuses a lock that lacks other platforms' optional packages (node-unix-socket's
  # prebuilt binaries for macOS and arm), and the registry here cannot supply them. Then
  # install the same locked versions with npm install, which skips what it cannot fetch.
  if ! npm ci --no-audit --no-fund --loglevel=error 2>/tmp/shoal-npm-ci.log; then
    grep -q "can only install packages when your package.json and package-lock.json" /tmp/shoal-npm-ci.log || { cat /tmp/shoal-npm-ci.log >&2; exit 1; }
    echo "setup: npm ci refused the lock (optional packages for other platforms); installing it with npm install"
    npm install --no-audit --no-fund --loglevel=error
  fi
fi
npm run --silent build
echo "setup: done (shoald: node dist/bin/shoald.js, shoal: node dist/bin/shoal.js)"

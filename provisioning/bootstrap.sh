#!/bin/sh
# First step on a fresh Debian 12 host: what the zx steps need to run at all (Debian's nodejs and npm,
# rsync), the sources in /opt/delegato with their dependencies (npm ci installs the pinned Node.js 24,
# zx and tsx), then the provisioning proper:
#
#   sh provisioning/bootstrap.sh <source dir> --region <id> [provision options]
#
# Idempotent like the rest: packages only when missing, npm ci only when package-lock.json changed.
# The Vagrantfile runs it as the shell provisioner of each VM; docs/provisioning.md.
set -eu

SOURCE=${1:?usage: bootstrap.sh <source dir> --region <id> [provision options]}
shift
APP=/opt/delegato

missing=""
for pkg in ca-certificates nodejs npm rsync; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  echo "apt-get install$missing"
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  # shellcheck disable=SC2086 # one word per package
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi

mkdir -p "$APP"
rsync -a --checksum --delete --chown=root:root \
  --exclude=.git --exclude=.vagrant --exclude=.lab --exclude=node_modules --exclude=dist \
  --exclude='*.tsbuildinfo' --exclude=var --exclude=test-artifacts \
  "${SOURCE%/}/" "$APP/"

lock=$(sha256sum "$APP/package-lock.json" | cut -d' ' -f1)
stamp="$APP/node_modules/.delegato-lock.sha256"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$lock" ]; then
  echo "npm ci in $APP"
  (cd "$APP" && npm ci --no-audit --no-fund)
  echo "$lock" > "$stamp"
fi

cd "$APP"
exec "$APP/node_modules/.bin/node" "$APP/node_modules/.bin/tsx" "$APP/provisioning/provision.ts" "$@"

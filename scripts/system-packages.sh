#!/usr/bin/env bash
# Installs the Debian servers the tests start on loopback (redis-server, nginx, caddy) and the
# browser the sign-in tests drive (chromium, through playwright-core) when they are missing, so
# `npm test` does all the set-up on a fresh machine. Each test starts its own instance on a free
# port with a temporary directory; nothing here starts a service.
set -euo pipefail
missing=()
for tool in redis-server nginx caddy chromium; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing ${missing[*]}: install them (Debian: apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo "installing ${missing[*]} with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The packages' own service start-up is not wanted (no init system here, and the tests start their own).
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

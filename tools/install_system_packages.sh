#!/usr/bin/env bash
# Install the Debian packages listed in tools/system_packages.txt that are missing.
# Needs root (or sudo) only when something is missing; a machine that has them all is untouched.
set -euo pipefail
list="$(dirname "${BASH_SOURCE[0]}")/system_packages.txt"
mapfile -t wanted < <(grep -Ev '^\s*(#|$)' "$list")
missing=()
for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing Debian packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "Need root to install: ${missing[*]} (see $list)" >&2; exit 1; }
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# Debian's HAProxy, the front of several Rasa servers (RASA_INSTANCES > 1) and
# of the scale tests. Installed once; needs root or sudo.
set -euo pipefail
if command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ]; then exit 0; fi
echo "Installing Debian's haproxy"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y --no-install-recommends haproxy >/dev/null 2>&1 \
  || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y --no-install-recommends haproxy >/dev/null; }

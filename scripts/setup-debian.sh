#!/usr/bin/env bash
# The Debian packages the tests and `meshdeck demo --ssh` use: OpenSSH's server and client
# (the tests start sshd themselves, per connection on a loopback port, with throwaway keys;
# no system sshd is configured or started here), tmux (the OSC 52 clipboard test) and
# Prometheus (the tests start their own on loopback with a generated config; the system
# service the package installs is not used).
set -euo pipefail
if [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null && command -v ssh-keygen >/dev/null \
  && command -v tmux >/dev/null && command -v prometheus >/dev/null; then
  exit 0
fi
echo "== installing openssh-server, openssh-client, tmux and prometheus (Debian packages)"
as_root=()
if [ "$(id -u)" != 0 ]; then as_root=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
packages=(openssh-server openssh-client tmux prometheus)
"${as_root[@]}" apt-get install -y --no-install-recommends "${packages[@]}" >/dev/null \
  || { "${as_root[@]}" apt-get update -qq \
       && "${as_root[@]}" apt-get install -y --no-install-recommends "${packages[@]}" >/dev/null; }

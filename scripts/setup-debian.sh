#!/usr/bin/env bash
# The Debian packages the tests and `meshdeck demo --ssh` use: OpenSSH's server and client
# (the tests start sshd themselves, per connection on a loopback port, with throwaway keys;
# no system sshd is configured or started here) and tmux (the OSC 52 clipboard test).
set -euo pipefail
if [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null && command -v ssh-keygen >/dev/null \
  && command -v tmux >/dev/null; then
  exit 0
fi
echo "== installing openssh-server, openssh-client and tmux (Debian packages)"
as_root=()
if [ "$(id -u)" != 0 ]; then as_root=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
packages=(openssh-server openssh-client tmux)
"${as_root[@]}" apt-get install -y --no-install-recommends "${packages[@]}" >/dev/null \
  || { "${as_root[@]}" apt-get update -qq \
       && "${as_root[@]}" apt-get install -y --no-install-recommends "${packages[@]}" >/dev/null; }

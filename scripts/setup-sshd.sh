#!/usr/bin/env bash
# Makes sure OpenSSH's server and client are installed (Debian packages): the tests and
# `meshdeck demo --ssh` start sshd themselves, per connection on a loopback port, with
# throwaway keys. Nothing is started here and no system sshd is configured.
set -euo pipefail
if [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null && command -v ssh-keygen >/dev/null; then
  exit 0
fi
echo "== installing openssh-server and openssh-client (Debian packages)"
as_root=()
if [ "$(id -u)" != 0 ]; then as_root=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get install -y --no-install-recommends openssh-server openssh-client >/dev/null \
  || { "${as_root[@]}" apt-get update -qq && "${as_root[@]}" apt-get install -y --no-install-recommends openssh-server openssh-client >/dev/null; }
/usr/sbin/sshd -V 2>&1 | head -1 || true

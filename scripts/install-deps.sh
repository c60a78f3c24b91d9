#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Install, from Debian's packages, everything needed to build, demo and
# test pam_apitoken.  Run as root (or it re-runs itself with sudo).
set -eu
if [ "$(id -u)" -ne 0 ]; then
	exec sudo "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
# The servers below are started by the tests in temporary directories;
# keep their packages from starting system-wide instances on install.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
apt-get update
apt-get install -y --no-install-recommends \
	build-essential pkg-config ca-certificates \
	libpam0g-dev nettle-dev libssl-dev openssl libyaml-dev libjansson-dev \
	libcriterion-dev pamtester libpam-wrapper libpamtest0-dev \
	openssh-server openssh-client sshpass sudo \
	valgrind clang man-db groff-base mandoc \
	debhelper dpkg-dev fakeroot lintian \
	libpam-pwdfile db-util \
	libsystemd-dev libmicrohttpd-dev libpq-dev \
	nginx-light libnginx-mod-http-auth-pam dovecot-imapd \
	postgresql curl wrk

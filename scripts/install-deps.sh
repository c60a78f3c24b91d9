#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Install, from Debian's packages, everything needed to build, demo and
# test pam_apitoken.  Run as root (or it re-runs itself with sudo).
set -eu
if [ "$(id -u)" -ne 0 ]; then
	exec sudo "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
	build-essential pkg-config ca-certificates \
	libpam0g-dev nettle-dev libssl-dev openssl libyaml-dev libjansson-dev \
	libcriterion-dev pamtester libpam-wrapper libpamtest0-dev \
	openssh-server openssh-client sshpass sudo \
	valgrind clang man-db groff-base mandoc \
	debhelper dpkg-dev fakeroot lintian \
	libpam-pwdfile db-util

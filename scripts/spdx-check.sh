#!/bin/sh
# scripts/spdx-check.sh [file...] - list the project's source files that
# lack the licence line "SPDX-License-Identifier: BSD-2-Clause" in their
# first 10 lines (LICENSE has the text).  Without arguments it checks the
# files git tracks that carry one:
#   *.c *.h *.sh, Makefile, scripts (.ci/run, debian/rules, the Debian
#   maintainer scripts, the bash completion), man pages (man/*.[1-9]),
#   configuration (conf/, verifier/libapitoken.pc.in, the module's
#   version script).
# Data (fuzz corpora and crashers, dictionaries) and documents (*.md) are
# not checked.  Exit status: 0 all have it, 1 some lack it (listed on
# stdout), 2 not run inside the git work tree.
set -u

tag='SPDX-License-Identifier'
want="$tag: BSD-2-Clause"

if [ $# -eq 0 ]; then
	cd "$(dirname "$0")/.." || exit 2
	files=$(git ls-files -- '*.c' '*.h' '*.sh' Makefile .ci/run \
	    debian/rules 'debian/*.postinst' 'debian/*.postrm' \
	    'debian/*.prerm' 'debian/*.preinst' contrib/bash-completion \
	    'man/*.[1-9]' conf verifier/libapitoken.pc.in \
	    'pam_apitoken/*.map' 2>/dev/null) || {
		echo "spdx-check: not a git work tree: $(pwd)" >&2
		exit 2
	}
	set -- $files
fi

status=0
for f in "$@"; do
	if ! head -n 10 "$f" 2>/dev/null | grep -qF "$want"; then
		echo "$f"
		status=1
	fi
done
if [ "$status" -ne 0 ]; then
	echo "spdx-check: the files above lack \"$want\"" >&2
fi
exit "$status"

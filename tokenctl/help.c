/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * help.c - the text of `tokenctl --help` and of each verb's --help (for
 * a user other than root, with what self-service lets them do).
 * Keep in step with man/tokenctl.8: test-install compares every verb's
 * synopsis and options in both (tests/install/test_docs.c).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tokenctl.h"
#include "doctor.h"

static const char global_help[] =
"usage: tokenctl [-c CONFIG] COMMAND [ARGS...]\n"
"\n"
"Manage the API tokens of pam_apitoken.\n"
"\n"
"Commands:\n"
"  init                  create the store, its directory and state_dir\n"
"  issue USER --label T  issue a token (or --batch FILE|-)\n"
"  list                  list tokens (filters: --user --status --service --expiring)\n"
"  show ID               show every field of a token\n"
"  edit ID               change label, description, external id, services,\n"
"                        source addresses, hosts or expiry\n"
"  disable ID            refuse a token until enabled again\n"
"  enable ID             accept a disabled token again\n"
"  revoke ID             revoke a token and the tokens derived from it\n"
"                        (or --user USER, or --token-stdin)\n"
"  rotate ID             replace a token by a new secret, same metadata\n"
"  delete ID             remove a token's record\n"
"  prune                 remove revoked and expired records\n"
"  verify                check a token on stdin as the PAM module does\n"
"  check                 offline: is each stdin line a well-formed token\n"
"  export                write every record (with hashes) to stdout\n"
"  import FILE|-         add the records of an export to the store\n"
"  doctor                check the config, store, state_dir and PAM files\n"
"  lockouts              list apitokend's current lockouts (root)\n"
"  unlock ID             clear a token's lockout in apitokend (or --user\n"
"                        USER, --address ADDR) (root)\n"
"  db init|status        the central store in PostgreSQL (config postgresql)\n"
"  replica status        this host's replica of the fleet's PostgreSQL store\n"
"  help [COMMAND]        show help\n"
"\n"
"Options:\n"
"  -c, --config CONFIG   config file (default: $APITOKEN_CONFIG, else\n"
"                        " APITOKEN_DEFAULT_CONFIG ")\n"
"  -h, --help            show this help\n"
"  -V, --version         show the version\n"
"\n"
"Each command takes --help.  Exit status: 0 success, 1 rejected or not\n"
"found, 2 usage error, 3 config error, 4 store error, 5 internal or\n"
"system error.  See tokenctl(8).\n";

static const struct help {
	const char *verb;
	const char *usage;	/* synopsis lines */
	const char *text;	/* description and options */
} helps[] = {
	{ "init", "tokenctl init\n",
"Create the store's directory (0700), an empty store (0600) and state_dir\n"
"(0700) when missing.  Safe to run again: an existing store is checked,\n"
"never rewritten.\n" },
	{ "issue",
"tokenctl issue USER --label TEXT [--description TEXT] [--external-id TEXT]\n"
"               [--service NAME]... [--from CIDR]... [--host HOST]...\n"
"               [--expires WHEN] [--parent ID] [--json]\n"
"tokenctl issue --batch FILE|- [--json]\n",
"Issue a new token for the account USER and print it once, alone on one\n"
"line (with --json: one JSON object, the fields of 'show --json' and token).\n"
"\n"
"  --label TEXT          required; unique among USER's non-revoked tokens\n"
"  --description TEXT    free text, one line\n"
"  --external-id TEXT    an identifier from another system\n"
"  --service NAME        PAM service allowed to use the token; repeat for\n"
"                        more; none (or 'all') means every service\n"
"  --from CIDR           source address/network allowed; repeat for more;\n"
"                        none (or 'any') means any address\n"
"  --host HOST           host allowed to use the token: a name, a pattern\n"
"                        (build-*) or @GROUP (config host_groups); repeat\n"
"                        for more; none (or 'all') means every host\n"
"  --expires WHEN        duration (45s 30m 12h 90d 2w 1y), YYYY-MM-DD,\n"
"                        YYYY-MM-DDTHH:MM[:SS]Z or never; default from\n"
"                        default_lifetime, at most max_lifetime\n"
"  --parent ID           derive from token ID: revoking or rotating it\n"
"                        revokes this one too; cannot outlive it\n"
"  --batch FILE|-        one JSON object per line with keys user, label,\n"
"                        description, external_id, service, from, host\n"
"                        (arrays), expires, parent; all or nothing, one\n"
"                        store write; prints one token (or JSON object)\n"
"                        per line\n"
"  --json                JSON output\n" },
	{ "list",
"tokenctl list [--user USER] [--status active|disabled|revoked|expired]\n"
"              [--service NAME] [--expiring WHEN] [--json]\n",
"List tokens, one row each: ID, USER, LABEL, SERVICES, HOSTS, STATUS,\n"
"CREATED, EXPIRES, LAST USED.  Filters combine (all must match).\n"
"\n"
"  --user USER           tokens of USER\n"
"  --status S            active, disabled, revoked, or expired (an active\n"
"                        token past its expiry shows as expired)\n"
"  --service NAME        tokens usable with PAM service NAME\n"
"  --expiring WHEN       not revoked, not yet expired, expiring by WHEN\n"
"  --json                a JSON array of objects\n"
"  --ids                 only the IDs, one per line (for completion)\n" },
	{ "show", "tokenctl show ID [--json]\n",
"Show every field of a token except its hash, its derived tokens and its\n"
"last use.\n"
"\n"
"  --json                one JSON object\n" },
	{ "edit",
"tokenctl edit ID [--label TEXT] [--description TEXT] [--external-id TEXT]\n"
"              [--service NAME]... [--from CIDR]... [--host HOST]...\n"
"              [--expires WHEN|never]\n",
"Change a token's metadata; the secret stays.  --service, --from and\n"
"--host replace the whole list ('--service all', '--from any', '--host\n"
"all' clear it).\n"
"Revoked tokens cannot be edited.\n" },
	{ "disable", "tokenctl disable ID\n",
"Refuse the token until 'tokenctl enable'.  Derived tokens are not\n"
"affected.\n" },
	{ "enable", "tokenctl enable ID\n",
"Accept a disabled token again.  A revoked token cannot be enabled.\n" },
	{ "revoke",
"tokenctl revoke ID [--reason TEXT]\n"
"tokenctl revoke --user USER [--reason TEXT]\n"
"tokenctl revoke --token-stdin [--reason TEXT]\n",
"Revoke a token at once, with every token derived from it (recursively).\n"
"Revocation is final.\n"
"\n"
"  --reason TEXT         recorded with the revocation\n"
"  --user USER           revoke every active or disabled token of USER\n"
"  --token-stdin         revoke the token read from stdin (raw, \"Bearer T\"\n"
"                        or \"ApiKey T\"); its secret must match\n" },
	{ "rotate", "tokenctl rotate ID [--expires WHEN] [--json]\n",
"Issue a new secret with the same metadata (user, label, description,\n"
"external id, services, from, expiry, status) as a token derived from ID,\n"
"print it once, and revoke ID (reason \"rotated to NEWID\") and its other\n"
"derived tokens in the same write.\n"
"\n"
"  --expires WHEN        a new expiry instead of the old one\n"
"  --json                one JSON object with id, token, replaces, ...\n" },
	{ "delete", "tokenctl delete ID\n",
"Remove a token's record and last-use file.  Tokens derived from it are\n"
"revoked.\n" },
	{ "prune", "tokenctl prune [--older-than WHEN]\n",
"Remove revoked and expired records (and their last-use files).\n"
"\n"
"  --older-than WHEN     only those revoked or expired before WHEN; a\n"
"                        duration counts back from now (30d = 30 days ago)\n" },
	{ "verify",
"tokenctl verify [--user USER] [--service NAME] [--rhost ADDR] [--daemon]\n",
"Read a token from stdin (raw, \"Bearer T\" or \"ApiKey T\") and decide as\n"
"the PAM module does.  Accepted: print the token ID, exit 0.  Otherwise\n"
"print the reason on stderr, exit 1 (4 for a store error, or apitokend\n"
"unavailable).\n"
"\n"
"  --user USER           the account logging in (default: the name of\n"
"                        the real uid running tokenctl)\n"
"  --service NAME        the PAM service (default: none)\n"
"  --rhost ADDR          the remote address (default: unknown)\n"
"  --daemon              ask apitokend (daemon_socket) instead of reading\n"
"                        the store: what a caller that is not root gets\n"
"                        (needs --service)\n" },
	{ "check", "tokenctl check [--prefix P]\n",
"Offline: is each line of stdin a well-formed token with a good\n"
"checksum?  Prints one line per input, never the input itself:\n"
"'line N: ok ID' or 'line N: invalid: REASON'.  Exit 0 when all are\n"
"well-formed, else 1.  Tokens are never taken as arguments (argv is\n"
"visible to every local user); an argument is a usage error.\n"
"\n"
"  --prefix P            the token prefix (default: token_prefix of the\n"
"                        config, or \"" APITOKEN_DEFAULT_PREFIX "\" when the default\n"
"                        config cannot be read)\n" },
	{ "export", "tokenctl export [--json]\n",
"Write every record, with its hash (never a secret), to stdout: the\n"
"store's text form, or with --json {\"version\": 1, \"records\": [...]}.\n" },
	{ "import", "tokenctl import [--replace] [--allow-identity-change] "
	    "[--dry-run] FILE|-\n",
"Add the records of an export (text or JSON form, detected) to the store\n"
"in one write.  Any bad record fails the whole import and nothing is\n"
"written.  A record identical to a stored one is skipped.  Records pass\n"
"issue's policy (the account exists, max_lifetime, CIDRs); a revoked\n"
"token is never made active or disabled again.  FILE must be owned by\n"
"root (or you) and writable by nobody else.\n"
"\n"
"  --replace             replace stored records with the same ID\n"
"  --allow-identity-change\n"
"                        let --replace change a record's hash or user\n"
"                        (never a revoked one's)\n"
"  --dry-run             print what would change; write nothing\n" },
	{ "doctor", "tokenctl doctor [--json] [--pam-dir DIR]\n",
"Check this host's setup and say what to fix: the config file and its\n"
"trust, the store (owner, mode, who can read it, size, that it parses),\n"
"state_dir, the PAM service files that use pam_apitoken.so (options,\n"
"an account line, stack order, service_aliases) and tokens that expire\n"
"within 7 days.  Changes nothing.  Exit status 0 when all is well, 1\n"
"when something needs fixing.\n"
"\n"
"  --json                one JSON object: ok, problems, checks[]\n"
"  --pam-dir DIR         the PAM service files (default " DOC_PAM_DIR ")\n" },
	{ "lockouts", "tokenctl lockouts [--json]\n",
"List the lockouts apitokend holds (in memory): tokens, users for a\n"
"calling uid, and HTTP client addresses, refused with 'throttled' after\n"
"too many failures, until when, and after how many failures.  Root\n"
"only; asks the daemon.\n"
"\n"
"  --json                a JSON array of objects\n" },
	{ "unlock",
"tokenctl unlock ID\n"
"tokenctl unlock --user USER\n"
"tokenctl unlock --address ADDR\n",
"Clear apitokend's lockout of token ID, every lockout of USER (for any\n"
"calling uid), or that of HTTP client address ADDR, and print what was\n"
"cleared.  Root only; asks the daemon.\n"
"\n"
"  --user USER           the user's lockouts instead of a token's\n"
"  --address ADDR        an HTTP client address's lockout (IPv4 or IPv6)\n" },
	{ "db",
"tokenctl db init [--admin-role ROLE] [--hosts-role ROLE]\n"
"tokenctl db status [--json]\n",
"The central store in PostgreSQL (config key postgresql).  'db init'\n"
"creates the schema, or migrates an older one (a newer one is refused);\n"
"safe to run again.  'db status' shows the schema version, tokens by\n"
"status, the change log kept and its retention, the audit rows and the\n"
"replicas that reported in (host, cursor, last sync and its age).\n"
"\n"
"  --admin-role ROLE     grant ROLE what tokenctl needs (write)\n"
"  --hosts-role ROLE     grant ROLE what apitokend needs (read tokens and\n"
"                        changes, report last use, its replicas row)\n"
"  --json                db status as one JSON object\n" },
	{ "replica", "tokenctl replica status [--json]\n",
"Show this host's replica of the fleet's PostgreSQL store, as apitokend\n"
"last recorded it: the server, connected or not (or apitokend not\n"
"running), the cursor, the last sync and its age, stale or not against\n"
"max_staleness, last-use reports not sent yet, the last error.  Exit\n"
"status 0 when synced within max_staleness, 1 when stale or never synced.\n"
"\n"
"  --json                one JSON object\n" },
	{ "help", "tokenctl help [COMMAND]\n", "Show help.\n" },
};

/* What a user other than root may do (self-service): shown after the
 * help when such a user asks for it (tokenctl(8), SELF-SERVICE). */
static const char self_help[] =
"\n"
"As a user other than root you manage your own tokens through apitokend,\n"
"when the administrator turned self_service on (tokenctl(8), SELF-SERVICE):\n"
"  issue [USER] --label T --service NAME [--description TEXT]\n"
"        [--external-id TEXT] [--from CIDR]... [--expires WHEN] [--json]\n"
"                        a token for yourself (USER: none, or your own\n"
"                        name); asks for your password first\n"
"  list, show ID         your tokens, with their last use\n"
"  edit ID, disable ID, enable ID, revoke ID [--reason TEXT]\n"
"                        your tokens only\n"
"  rotate ID [--expires WHEN] [--json]\n"
"                        asks for your password first\n";

static const struct {
	const char *verb;
	const char *text;
} self_notes[] = {
	{ "issue",
"As a user other than root (self-service, through apitokend): USER may be\n"
"left out or be your own name; at least one --service, each one of\n"
"self_service.services; --expires at most self_service.max_lifetime;\n"
"--parent and --batch are root's.  apitokend asks for your password\n"
"first.\n" },
	{ "list",
"As a user other than root (self-service, through apitokend): your own\n"
"tokens only.\n" },
	{ "show",
"As a user other than root (self-service, through apitokend): your own\n"
"tokens only; another user's ID is answered as an unknown one.\n" },
	{ "edit",
"As a user other than root (self-service, through apitokend): your own\n"
"tokens only, within the self_service limits.\n" },
	{ "disable",
"As a user other than root (self-service, through apitokend): your own\n"
"tokens only.\n" },
	{ "enable",
"As a user other than root (self-service, through apitokend): your own\n"
"tokens only.\n" },
	{ "revoke",
"As a user other than root (self-service, through apitokend): revoke ID\n"
"for your own tokens only; --user and --token-stdin are root's.\n" },
	{ "rotate",
"As a user other than root (self-service, through apitokend): your own\n"
"tokens only; apitokend asks for your password first.\n" },
};

/* The self-service note of verb (NULL: the global one) for a user
 * other than root, or NULL. */
static const char *
self_note(const char *verb)
{
	size_t i;

	if (getuid() == 0)
		return NULL;
	if (verb == NULL)
		return self_help;
	for (i = 0; i < sizeof(self_notes) / sizeof(self_notes[0]); i++)
		if (strcmp(self_notes[i].verb, verb) == 0)
			return self_notes[i].text;
	return NULL;
}

static const struct help *
find_help(const char *verb)
{
	size_t i;

	for (i = 0; verb != NULL && i < sizeof(helps) / sizeof(helps[0]); i++)
		if (strcmp(helps[i].verb, verb) == 0)
			return &helps[i];
	return NULL;
}

int
ctl_help(const char *verb, int requested)
{
	const struct help *h = find_help(verb);
	FILE *out = requested ? stdout : stderr;

	const char *note = requested ? self_note(h ? h->verb : NULL) : NULL;

	if (h == NULL) {
		fputs(global_help, out);
		if (note != NULL)
			fputs(note, out);
	} else if (requested) {
		fprintf(out, "usage: %s\n%s%s%s", h->usage, h->text,
		    note ? "\n" : "", note ? note : "");
	} else {
		fprintf(out, "usage: %s(see 'tokenctl %s --help')\n",
		    h->usage, h->verb);
	}
	return requested ? CTL_EXIT_OK : CTL_EXIT_USAGE;
}

/* Runs in: workers, after the sandbox (test builds only). */
/*
 * whoami (test builds only): needs the scope mcpd/admin and returns the
 * caller's identity as the server verified it.
 */
#include <string.h>

#include "worker/tool.h"

static void
set_claim(struct mcpd_call *call, const char *field, const char *value)
{
	mcpd_set_string(call, field, value != NULL ? value : "", value != NULL ? strlen(value) : 0);
}

static int
whoami(struct mcpd_call *call)
{
	const struct mcpd_identity *id = call->identity;

	mcpd_set_boolean(call, "verified", id != NULL);
	set_claim(call, "sub", id != NULL ? id->sub : NULL);
	set_claim(call, "username", id != NULL ? id->username : NULL);
	set_claim(call, "client_id", id != NULL ? id->client_id : NULL);
	set_claim(call, "scope", id != NULL ? id->scope : NULL);
	mcpd_set_integer(call, "expires_at", id != NULL ? id->expires_at : 0);
	set_claim(call, "protocol_version", call->protocol_version);
	return mcpd_return_object(call);
}

MCPD_TOOL(
	.title = "Who Am I",
	.description = "The caller's verified identity (test builds only; needs mcpd/admin)",
	MCPD_RETURNS_OBJECT(
	    MCPD_FIELD("verified", MCPD_TYPE_BOOLEAN, "whether a token was verified"),
	    MCPD_FIELD("sub", MCPD_TYPE_STRING, "the token's sub"),
	    MCPD_FIELD("username", MCPD_TYPE_STRING, "the token's username"),
	    MCPD_FIELD("client_id", MCPD_TYPE_STRING, "the token's client_id"),
	    MCPD_FIELD("scope", MCPD_TYPE_STRING, "the granted scopes"),
	    MCPD_FIELD("expires_at", MCPD_TYPE_INTEGER, "the token's exp"),
	    MCPD_FIELD("protocol_version", MCPD_TYPE_STRING, "the protocol version of the call")),
	MCPD_SCOPES("mcpd/admin"),
	.annotations = {.read_only = true, .idempotent = true},
	.run = whoami,
);

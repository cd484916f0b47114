/*
 * tool.h: everything a tool needs, and nothing else.
 *
 * A tool is one file in worker/tools/.  The file's name is the tool's name:
 * the build passes it in, so it is written nowhere else.  The file reads its
 * arguments by name and declares itself with MCPD_TOOL(...):
 *
 *     (tests/tools/subtract_numbers.c, compiled and tested as printed)
 *
 *     #include "worker/tool.h"
 *
 *     static int
 *     subtract(struct mcpd_call *call)
 *     {
 *             int64_t a = mcpd_arg_integer(call, "a"), b = mcpd_arg_integer(call, "b"), difference;
 *
 *             if (__builtin_sub_overflow(a, b, &difference))
 *                     return mcpd_error(call, "%lld - %lld does not fit in a 64-bit integer", (long long)a, (long long)b);
 *             return mcpd_return_integer(call, difference);
 *     }
 *
 *     MCPD_TOOL(
 *             .title = "Subtract Numbers",
 *             .description = "Subtract the second number from the first",
 *             MCPD_PARAMS(MCPD_INTEGER("a", "First number"), MCPD_INTEGER("b", "Second number")),
 *             MCPD_RETURNS(MCPD_TYPE_INTEGER),
 *             .annotations = {.read_only = true, .idempotent = true},
 *             .run = subtract,
 *     );
 *
 * The build finds the file (every .c file of worker/tools/ but the *_test.c
 * files, which are the tools' own tests) and the server does the rest: the JSON Schemas in
 * tools/list, checking every argument against its rules before `run` is
 * called, structuredContent and the text content of the result, per
 * protocol version.  Every mcpd_arg_* use in the file is checked when the
 * server starts: a name the tool does not declare, or a type other than the
 * declared one, stops the server with the file and line, so a misspelt
 * argument never reaches a request.
 *
 * A tool runs inside the worker's sandbox: it computes with what it is given
 * and returns.  It cannot open files or sockets, start processes or threads,
 * or sleep (the system calls are not allowed; the worker is killed and
 * replaced), and it runs on the worker's only thread, so it must be quick.
 * To reach an HTTP API or an AWS service it asks the egress process with
 * mcpd_fetch (below) and returns; the worker serves other requests while
 * the answer travels, then runs the tool's continuation.
 */
#ifndef MCPD_WORKER_TOOL_H
#define MCPD_WORKER_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The JSON types of parameters and results. */
enum mcpd_type {
	MCPD_TYPE_INTEGER,	/* exact 64-bit integer: never rounded through a double */
	MCPD_TYPE_NUMBER,	/* finite double; integers are accepted */
	MCPD_TYPE_BOOLEAN,
	MCPD_TYPE_STRING,	/* UTF-8, never holding U+0000 */
};

/* One parameter: a name, a type and the rules its value must meet. */
struct mcpd_param {
	const char *name;
	const char *description;
	enum mcpd_type type;
	bool array;			/* an array of `type` (MCPD_ARRAY) */
	size_t max_items;		/* arrays: at most this many items; 0 = any */
	bool optional;			/* may be left out (MCPD_OPTIONAL or a default) */
	bool has_default;		/* left out means this value (MCPD_DEFAULT_*) */
	int64_t default_integer;
	double default_number;
	bool default_boolean;
	const char *default_string;
	bool has_minimum, has_maximum;	/* integers: MCPD_MIN / MCPD_MAX */
	int64_t minimum, maximum;
	size_t max_length;		/* strings: at most this many characters; 0 = any */
	const char *const *enum_values;	/* strings: one of these (MCPD_ENUM); NULL = any */
};

/* A parameter of each type; rules follow the description, e.g. MCPD_MIN(0). */
#define MCPD_INTEGER(name_, description_, ...) \
	{ .name = (name_), .description = (description_), .type = MCPD_TYPE_INTEGER, __VA_ARGS__ }
#define MCPD_NUMBER(name_, description_, ...) \
	{ .name = (name_), .description = (description_), .type = MCPD_TYPE_NUMBER, __VA_ARGS__ }
#define MCPD_BOOLEAN(name_, description_, ...) \
	{ .name = (name_), .description = (description_), .type = MCPD_TYPE_BOOLEAN, __VA_ARGS__ }
#define MCPD_STRING(name_, description_, ...) \
	{ .name = (name_), .description = (description_), .type = MCPD_TYPE_STRING, __VA_ARGS__ }

/* Rules, each optional. */
#define MCPD_MIN(v)		.has_minimum = true, .minimum = (v)
#define MCPD_MAX(v)		.has_maximum = true, .maximum = (v)
#define MCPD_MAX_LENGTH(n)	.max_length = (n)
#define MCPD_ENUM(...)		.enum_values = (const char *const[]){__VA_ARGS__, NULL}
#define MCPD_ARRAY(max_items_)	.array = true, .max_items = (max_items_)
#define MCPD_OPTIONAL		.optional = true
#define MCPD_DEFAULT_INTEGER(v)	.optional = true, .has_default = true, .default_integer = (v)
#define MCPD_DEFAULT_NUMBER(v)	.optional = true, .has_default = true, .default_number = (v)
#define MCPD_DEFAULT_BOOLEAN(v)	.optional = true, .has_default = true, .default_boolean = (v)
#define MCPD_DEFAULT_STRING(v)	.optional = true, .has_default = true, .default_string = (v)

/* A field of an object result. */
struct mcpd_field {
	const char *name;
	enum mcpd_type type;
	const char *description;
};

/* What a tool returns: one value (as {"result": value}), or an object of fields. */
struct mcpd_result {
	enum mcpd_type type;			/* the single value's type */
	const struct mcpd_field *fields;	/* or these fields, every one set */
	size_t nfields;
};

/* ToolAnnotations: hints for clients, not promises the server checks. */
struct mcpd_annotations {
	bool read_only;		/* does not change its environment */
	bool destructive;	/* may destroy data (meaningful when !read_only) */
	bool idempotent;	/* calling twice with the same arguments does nothing more */
	bool open_world;	/* reaches outside the server */
};

/* The verified caller (RFC 9068 / Cognito access token claims). */
struct mcpd_identity {
	const char *sub;	/* "" when the token has none */
	const char *username;	/* Cognito's "username" */
	const char *client_id;
	const char *scope;	/* the granted scopes, space-separated */
	int64_t expires_at;	/* "exp", unix seconds */
};

/* A validated argument: what mcpd_arg() gives. */
struct mcpd_value {
	bool present;			/* false only for an MCPD_OPTIONAL one left out */
	int64_t integer;
	double number;			/* also set for integers */
	bool boolean;
	const char *string;		/* NUL-terminated; `length` bytes of UTF-8 */
	size_t length;
	const struct mcpd_value *items;	/* arrays: `count` items of the parameter's type */
	size_t count;
};

struct mcpd_call_state;

/* One call of a tool. */
struct mcpd_call {
	const struct mcpd_identity *identity;	/* NULL when tokens are not verified (--auth none) */
	const char *protocol_version;		/* e.g. "2025-11-25" */
	struct mcpd_call_state *state;		/* the server's; not for tools */
};

struct mcpd_tool {
	const char *name;			/* set by MCPD_TOOL: the file's name */
	/* MCPD_EGRESS(...): HOST[:PORT] patterns mcpd_fetch may reach; NULL: none. */
	const char *const *egress;
	bool egress_operator;			/* MCPD_EGRESS_OPERATOR: --egress-allow HOST entries apply */
	unsigned max_in_flight;			/* mcpd_fetch requests at once per worker; 0: --egress-max-in-flight */
	const char *title;			/* optional: shown by clients (2025-06-18 on) */
	const char *description;
	const struct mcpd_param *params;	/* MCPD_PARAMS(...) */
	size_t nparams;
	struct mcpd_result result;		/* MCPD_RETURNS(...) or MCPD_RETURNS_OBJECT(...) */
	const char *const *scopes;		/* MCPD_SCOPES(...): a call without them is refused (403) */
	struct mcpd_annotations annotations;
	int (*run)(struct mcpd_call *call);	/* returns one of the mcpd_return_* / mcpd_error calls */
};

/*
 * MCPD_TOOL(fields...) defines this file's tool.  The build compiles each
 * tool file with MCPD_TOOL_NAME set to the file's name, which becomes the
 * tool's name and its symbol (tool_<name>, the registry's entry).  Setting
 * .name as well is an error (-Woverride-init, and the registry's check).
 */
#ifdef MCPD_TOOL_NAME
#define MCPD_TOOL_SYMBOL_(name) tool_##name
#define MCPD_TOOL_SYMBOL(name) MCPD_TOOL_SYMBOL_(name)
#define MCPD_TOOL_STRING_(name) #name
#define MCPD_TOOL_STRING(name) MCPD_TOOL_STRING_(name)
#define MCPD_TOOL(...) \
	extern const struct mcpd_tool MCPD_TOOL_SYMBOL(MCPD_TOOL_NAME); \
	const struct mcpd_tool MCPD_TOOL_SYMBOL(MCPD_TOOL_NAME) = { \
		.name = MCPD_TOOL_STRING(MCPD_TOOL_NAME), __VA_ARGS__ }
#else
#define MCPD_TOOL(...) \
	_Static_assert(0, "a tool file is compiled by the build, which names the tool after the file " \
	    "(put it in worker/tools/)")
#endif

/*
 * Arguments, by name.  Each use records the file, line, name and type it
 * asks for in the section mcpd_arg_uses; the server checks every record
 * against the tool's parameters when it starts (tools_check_registry), so
 * a wrong name or type stops the server instead of reaching a request.
 * The record also remembers the parameter's position, so a lookup costs
 * no string comparison.
 */
enum mcpd_arg_kind {
	MCPD_ARG_ANY = -1,	/* mcpd_arg: any parameter, arrays included */
};

struct mcpd_arg_use {
	const char *tool;	/* the file's tool */
	const char *name;	/* the parameter asked for */
	int type;		/* an enum mcpd_type, or MCPD_ARG_ANY */
	const char *file;
	int line;
	size_t index;		/* the parameter's position, once checked */
	const struct mcpd_tool *checked_for;	/* the tool it was checked against */
};

const struct mcpd_value *mcpd_arg_value(struct mcpd_call *call, struct mcpd_arg_use *use);

#ifdef MCPD_TOOL_NAME
#define MCPD_ARG_USE_(name_, type_) ({ \
	static struct mcpd_arg_use use_ __attribute__((section("mcpd_arg_uses"), used, aligned(8))) = { \
		.tool = MCPD_TOOL_STRING(MCPD_TOOL_NAME), .name = (name_), .type = (type_), \
		.file = __FILE__, .line = __LINE__, \
	}; \
	&use_; \
})
#else
#define MCPD_ARG_USE_(name_, type_) ({ \
	_Static_assert(0, "mcpd_arg_* reads the arguments of a tool file (worker/tools/)"); \
	(struct mcpd_arg_use *)0; \
})
#endif

/* The argument `name` (a string literal): present, items and count included. */
#define mcpd_arg(call, name)		mcpd_arg_value((call), MCPD_ARG_USE_(name, MCPD_ARG_ANY))
/*
 * A single argument's value; its parameter must have that type and not be
 * an array.  An MCPD_OPTIONAL argument left out reads as 0, false or NULL:
 * mcpd_arg(call, name)->present tells it from a value sent.
 */
#define mcpd_arg_integer(call, name)	(mcpd_arg_value((call), MCPD_ARG_USE_(name, MCPD_TYPE_INTEGER))->integer)
#define mcpd_arg_number(call, name)	(mcpd_arg_value((call), MCPD_ARG_USE_(name, MCPD_TYPE_NUMBER))->number)
#define mcpd_arg_boolean(call, name)	(mcpd_arg_value((call), MCPD_ARG_USE_(name, MCPD_TYPE_BOOLEAN))->boolean)
#define mcpd_arg_string(call, name)	(mcpd_arg_value((call), MCPD_ARG_USE_(name, MCPD_TYPE_STRING))->string)

#define MCPD_PARAMS(...) \
	.params = (const struct mcpd_param[]){__VA_ARGS__}, \
	.nparams = sizeof((const struct mcpd_param[]){__VA_ARGS__}) / sizeof(struct mcpd_param)
#define MCPD_RETURNS(type_)	.result = { .type = (type_) }
#define MCPD_FIELD(name_, type_, description_) { .name = (name_), .type = (type_), .description = (description_) }
#define MCPD_RETURNS_OBJECT(...) \
	.result = { .fields = (const struct mcpd_field[]){__VA_ARGS__}, \
	    .nfields = sizeof((const struct mcpd_field[]){__VA_ARGS__}) / sizeof(struct mcpd_field) }
#define MCPD_SCOPES(...)	.scopes = (const char *const[]){__VA_ARGS__, NULL}
/*
 * Where mcpd_fetch may go (common/egress_allow.h has the pattern rules):
 * MCPD_EGRESS("api.example.com", "*.s3.*.amazonaws.com:443") lists the
 * tool's own destinations; MCPD_EGRESS_OPERATOR lets the operator's
 * unprefixed --egress-allow entries apply to it (a tool like fetch, whose
 * destinations are the operator's to choose).  A tool with neither cannot
 * fetch.  The operator may add to (TOOL=HOST) or narrow (TOOL=-HOST) any
 * tool's list; the egress process decides every request.
 */
#define MCPD_EGRESS(...)	.egress = (const char *const[]){__VA_ARGS__, NULL}
#define MCPD_EGRESS_OPERATOR	.egress_operator = true

/* Results: a tool returns exactly one of these calls' values. */
int mcpd_return_integer(struct mcpd_call *call, int64_t value);
int mcpd_return_number(struct mcpd_call *call, double value);	/* finite */
int mcpd_return_boolean(struct mcpd_call *call, bool value);
int mcpd_return_string(struct mcpd_call *call, const char *s, size_t length);
int mcpd_return_stringf(struct mcpd_call *call, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Object results: set every field, optionally the text, then return the object. */
void mcpd_set_integer(struct mcpd_call *call, const char *field, int64_t value);
void mcpd_set_number(struct mcpd_call *call, const char *field, double value);
void mcpd_set_boolean(struct mcpd_call *call, const char *field, bool value);
void mcpd_set_string(struct mcpd_call *call, const char *field, const char *s, size_t length);
void mcpd_set_text(struct mcpd_call *call, const char *fmt, ...)	/* default: the object as JSON */
	__attribute__((format(printf, 2, 3)));
int mcpd_return_object(struct mcpd_call *call);

/* A tool error: the client gets isError with "<tool>: <message>". */
int mcpd_error(struct mcpd_call *call, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Scratch memory for this call, freed after it; NULL when memory ran out. */
void *mcpd_alloc(struct mcpd_call *call, size_t size);

/*
 * Outbound HTTP, through the egress process.  A tool (declared with
 * MCPD_EGRESS or MCPD_EGRESS_OPERATOR) starts a request and returns what
 * mcpd_fetch returns; the worker goes on serving, and when the answer (or
 * the reason there is none) arrives, `then` runs with it and completes the
 * call as `run` would have: with a result, an error, or MCPD_PENDING after
 * starting another request.  Several requests may be out at once: the call
 * completes when a continuation returns anything but MCPD_PENDING (what is
 * still out is cancelled), and fails when nothing is left to wait for.
 * Arguments stay readable in continuations; mcpd_alloc memory lives until
 * the call completes, and is where state shared between continuations
 * goes (pass it as `data`).  A response lives only while its continuation
 * runs: copy what must last.  A client that goes away cancels the call and its
 * requests; `then` is not run.
 *
 *     static int
 *     fetched(struct mcpd_call *call, const struct mcpd_response *response)
 *     {
 *             if (response->error != NULL)
 *                     return mcpd_error(call, "%s", response->error);
 *             if (response->status != 200)
 *                     return mcpd_error(call, "the server answered HTTP %d", response->status);
 *             return mcpd_return_string(call, response->body, response->body_len);
 *     }
 *
 *     static int
 *     get(struct mcpd_call *call)
 *     {
 *             struct mcpd_request request = {.url = mcpd_arg_string(call, "url")};
 *
 *             return mcpd_fetch(call, &request, fetched, NULL);
 *     }
 */
#define MCPD_PENDING 1

struct mcpd_header {
	const char *name;
	const char *value;
};

struct mcpd_request {
	const char *method;			/* NULL: "GET" */
	const char *url;			/* http:// or https:// */
	const struct mcpd_header *headers;	/* sent as given; not Host, Content-Length, Connection, ... */
	size_t nheaders;
	const void *body;			/* body_len bytes; NULL: none */
	size_t body_len;
	unsigned timeout_ms;			/* from start to the last byte; 0: 10 s; at most 300 s */
	size_t max_response;			/* body bytes taken (more: too_large); 0: --egress-max-response */
	bool follow_redirects;			/* to allowed destinations only, 5 hops at most */
	const char *aws_service;		/* sign with SigV4 for this service ("s3"); NULL: do not sign */
	const char *aws_region;			/* NULL: AWS_REGION */
};

struct mcpd_response {
	/*
	 * NULL when the upstream answered (any status); else one line naming
	 * why there is no answer ("refused_destination: ...", "timeout: ...").
	 */
	const char *error;
	const char *outcome;			/* "ok", or the first word of error: the metrics label */
	int status;				/* the HTTP status; 0 with an error */
	const struct mcpd_header *headers;	/* the final response's, as received */
	size_t nheaders;
	const char *body;			/* body_len bytes, NUL-terminated ("" when none) */
	size_t body_len;
	void *data;				/* what mcpd_fetch was given */
};

typedef int (*mcpd_continuation)(struct mcpd_call *call, const struct mcpd_response *response);

/*
 * Starts `request` (copied: it need not outlive the call) and returns
 * MCPD_PENDING; `then` gets the answer with `data`.  A request that cannot
 * start (no egress, a bad header, too many in flight) still reaches `then`,
 * as an error.
 */
int mcpd_fetch(struct mcpd_call *call, const struct mcpd_request *request, mcpd_continuation then,
    void *data);
/* The value of a response header (first of that name, any case), or NULL. */
const char *mcpd_response_header(const struct mcpd_response *response, const char *name);
/* The AWS region of the runtime (AWS_REGION), or NULL when it is not set: for building a service's URL. */
const char *mcpd_aws_region(void);

#endif

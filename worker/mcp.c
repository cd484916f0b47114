#include "worker/mcp.h"
#include <stdlib.h>
#include <string.h>
int mcp_init(void) { return 0; }
void mcp_handle(const struct mcp_request *req, struct mcp_response *res)
{
	(void)req;
	memset(res, 0, sizeof(*res));
	res->status = 200;
	res->body = strdup("{}");
	res->body_len = 2;
}
void mcp_response_free(struct mcp_response *res) { free(res->body); }

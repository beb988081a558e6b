"""The HTTP side, free of any framework: requests and responses, content negotiation, query
parameters, request bodies, paging cursors, and the embedded server."""

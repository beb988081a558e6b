"""OGC API - Features: documents built by pure functions from domain objects and a base URL."""

"""Local stand-in HTTP servers that speak the formats of the real external services."""

"""Contract tests: the same HTTP requests against the monolith and an extracted service, the same answers required."""

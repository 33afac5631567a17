"""Property-based fuzzing of the API against its OpenAPI document."""

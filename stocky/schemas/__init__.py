"""Pydantic models: what the API reads and writes, and the DTOs services return."""

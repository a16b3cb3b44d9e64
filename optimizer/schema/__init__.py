"""What a case file may say: the pydantic models of every section (no I/O)."""

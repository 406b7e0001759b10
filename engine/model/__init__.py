"""Pure pydantic models of what mladvisor reads and writes: answers, decisions, drift summaries."""

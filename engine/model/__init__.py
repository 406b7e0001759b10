"""Pure pydantic models of what mladvisor reads and writes: answers, decisions, drift summaries;
vocab.py holds the closed vocabularies (phases, rungs, verdicts, severities, tasks, goals)."""

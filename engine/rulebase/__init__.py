"""The rule base and the engine that runs it."""

"""Small helpers with one home each, shared by the library, the CLI, reports and the web."""

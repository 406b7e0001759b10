"""Small helpers with one home each, shared by the library, the CLI, reports and the web:
dotted.py (get/set/drop/flatten by dotted answer path), files.py (atomic writes), table.py
(terminal tables), text.py (user text shown safely), canonical.py (canonical JSON + sha256),
load.py and limits.py (reading input within limits)."""

"""Small helpers with one home each, shared by the library, the CLI, reports and the web:
dotted.py (get/set/drop/flatten by dotted answer path), files.py (atomic writes, durable or
best effort), display.py (values and strategies as text), table.py (terminal tables), text.py
(user text shown safely), canonical.py (canonical JSON + sha256), load.py and limits.py
(reading input within limits). The vocabularies live in engine/model/vocab.py."""

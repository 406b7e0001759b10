"""The tamper-evident decision log (issue 5): append, read, verify, checkpoint, export, replay.

Files in MLADVISOR_HOME (default ~/.mladvisor):

- `audit.sqlite` - the log. WAL, synchronous=FULL, one transaction (one fsync) per record;
  triggers refuse UPDATE and DELETE on every table. Tables: `records` (seq, record_id, kind,
  time, body, prev_hash, entry_hash, signature, key_id, codec), `blobs` (rule base and knowledge
  files by sha256, stored once, and the compression dictionary), `rulebases` (the canonical
  {path: sha256} manifest of each rule base, keyed by its sha256), `keys` (public keys that
  signed records), `meta` (schema, log_id, created, `zstd_dictionary`, and `dictionary` in
  logs that zlib rows were written to). `body` holds the canonical JSON as `codec` says
  (`codec.py`): NULL plain (every row of a log written before compression), `zlib`,
  `zlib:<sha256>` with that blob as preset dictionary (earlier versions), or `zstd:<sha256>`,
  a zstd frame compressed with that blob as dictionary (what this version writes). A log
  without the `codec` column gets it on its first write-open; reading never changes the file.
  A new log has 8 KB pages.
- `audit.head.json` - a checkpoint of the head rewritten after every append (in place, padded
  to a fixed size: `headfile.py`); `verify` checks it by default, so a re-hashed last record or
  a log rebuilt shorter is caught.
- With MLADVISOR_DATABASE (or `serve --database`) naming a PostgreSQL database, the same
  tables live there instead, in the schema `mladvisor_audit` (`postgres.py`), with
  `chain_head` (the highest sequence number issued, locked by each append) and trigger
  functions refusing UPDATE, DELETE and TRUNCATE; the head file is then
  `audit-postgresql-<id>.head.json`, one per database. `storage.py` is the seam between the
  chain (`store.py`) and the two backends (`sqlite.py`, `postgres.py`).
- `checkpoints/` - copies of `mladvisor audit checkpoint` output, also checked by default.
  Keep a copy elsewhere too: only a checkpoint out of the log writer's reach proves nothing
  was cut off the end.
- `keys/audit-ed25519.pem` (written by `mladvisor audit keygen`) turns signing on; every public
  key generated stays as `keys/<key_id>.pub`, the trust store `verify` uses. The environment
  variable `MLADVISOR_AUDIT_KEY` names another PEM private key, or `off` to stop signing.

Trust model (what `verify` proves, against whom):

- No keys at all: the chain proves the log is consistent - it catches accidents and edits by
  someone who does not recompute hashes - but whoever can rewrite the whole file can rebuild
  a consistent chain.
- Default (`MLADVISOR_HOME/keys/*.pub`): signatures must come from keys kept beside the log.
  This stops whoever can write the database but not `keys/`; it does not stop whoever can
  write `keys/` too (they add a key of their own and re-sign).
- `verify --pubkey FILE` (repeatable): exactly those keys are trusted, and nothing in
  MLADVISOR_HOME is. Keep the public key (and checkpoints) where the log's writers cannot
  change them; with `--require-signatures` this is the check that holds against someone who
  controls MLADVISOR_HOME entirely, short of the private key.
- A signed log must have a signed head file (`audit.head.json`): a missing one, or an unsigned
  one naming a signed record, fails verification, since cutting records off the end and
  deleting or rewriting the head is exactly what it catches. Truncation is otherwise caught
  only by a checkpoint kept elsewhere.
- Reading commands (`verify`, `list`, `show`, `export`, `replay`, `checkpoint`) open the log
  read-only and never create it: `verify` of a missing or wiped log exits 3 naming the path.

A record (`body`, once decoded) is the RFC 8785 canonical JSON of
`{schema: "mladvisor.audit-record/1", kind: "assessment", record_id, time (UTC), respondent,
input, input_sha256, rulebase: {version, sha256, files_sha256}, engine_version, decision,
reports: {format: sha256}, account?: {name, role}}` (`account`: the team account that
submitted it on the web service, absent without accounts), or for a later rendering
`{schema, kind: "report", record_id, time, of, format, sha256, engine_version}`, or for an
architect's review of an assessment
`{schema, kind: "review", record_id, time, of, review: {action, user, role, comment, account,
override?: {justification, blockers}}, engine_version}` (`review.py`).
`entry_hash = sha256(prev_hash ‖ body)` where prev_hash is the previous entry hash as 64
ASCII hex digits (64 zeros for the first record); the signature is Ed25519 over the ASCII hex
of entry_hash, and `key_id` the first 16 hex digits of the sha256 of the raw public key.
`mladvisor audit export` writes each record with its chain fields so that an auditor can
recompute the chain without this code.

Reading returns typed records (`record.py`): `AuditRecord` (the chain fields and the hashed
body kept as stored, with typed members such as `decision` and `rulebase`) and
`RecordSummary` for listings. `append` takes anything shaped like `RecordedAssessment`, whose
rule base is a `RecordedRuleBase` (version, sha256, files): the audit package never imports
the rule engine. `verify.ChainVerifier` holds the checks of one verification, one method each.
"""

from __future__ import annotations

from engine.audit.record import AuditRecord, RecordedRuleBase, RecordSummary
from engine.audit.store import GENESIS, LOG_FILE, AuditLog, open_log

__all__ = ["GENESIS", "LOG_FILE", "AuditLog", "AuditRecord", "RecordSummary", "RecordedRuleBase",
           "open_log"]

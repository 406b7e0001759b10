"""Train the zstd dictionary that new audit records are compressed against.

    .venv/bin/python scripts/train_audit_dictionary.py   # writes engine/audit/records.zdict

Samples are real records: the hold-out architect cases (bench/architect-holdout*) assessed and
appended to a scratch log, then read back as canonical bytes. bench/bench_audit.py measures
other decisions (bench/architect and examples), so its bytes per record show how the dictionary
does on decisions it never saw. Retrain when decisions change shape (new sections, renamed
fields): logs keep the dictionary their rows name (a `blobs` row, by sha256), so an old row
always decodes; only new rows use the new one.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DICT_BYTES = 112640  # zstd's default maximum: larger ones gained little on these records


def samples(home: Path) -> list[bytes]:
    import yaml

    from engine.api import assess_files
    from engine.audit import codec as codecs
    from engine.audit import open_log

    log = open_log(home)
    for cases in sorted(ROOT.glob("bench/architect-holdout*")):
        for case in yaml.safe_load((cases / "expected.yaml").read_text()):
            evidence = [cases / case[k] if case.get(k) else None for k in ("benchmarks", "drift")]
            log.append(assess_files(cases / case["file"], *evidence), {"html": "0" * 64})
    log.close()
    with sqlite3.connect(home / "audit.sqlite") as conn:
        blobs = dict(conn.execute("SELECT sha256, content FROM blobs"))
        return [codecs.decode(body, codec, blobs.get)
                for body, codec in conn.execute("SELECT body, codec FROM records ORDER BY seq")]


def main() -> None:
    import zstandard

    from engine.audit import codec as codecs

    os.environ["MLADVISOR_AUDIT_KEY"] = "off"
    with tempfile.TemporaryDirectory(prefix="audit-dict-") as scratch:
        found = samples(Path(scratch))
    trained = zstandard.train_dictionary(DICT_BYTES, found, level=codecs.ZSTD_LEVEL)
    out = codecs.ZSTD_DICTIONARY_FILE
    out.write_bytes(trained.as_bytes())
    print(f"{out.relative_to(ROOT)}: {len(trained.as_bytes()):,} bytes from {len(found)} records"
          f" ({sum(map(len, found)) / len(found) / 1024:.1f} KB each on average)")


if __name__ == "__main__":
    main()

"""The rule base and the engine that runs it: from one case's facts to a decision.

A rule base is rules/*.yaml and knowledge/*.yaml, read as `{relative path: bytes}` so that a
folder, a test and an audit replay load it the same way (loading.py), validated at load time
with the file and line of every rule (knowledge.py, loading.py) and fingerprinted by sha256.
Rules are conditions in a small language, parsed once and evaluated two ways: compiled for
durable-rules, the one module that touches it (conditions.py, inference.py), and in plain
Python, which `rules test` cross-checks against it (testing.py) and `explain` uses.

An assessment turns answers and evidence into facts (facts.py), runs them in two rounds
(inference.infer_case: rules propose, reject and demote options; resolution picks the simplest
rung the evidence supports, resolve.py; then rules that depend on the selection fire), and
assembles the typed decision (assemble.py). `rules lint` checks the files statically (lint.py).
"""

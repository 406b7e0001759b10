"""Explanations a stakeholder can act on, for one decision or between two.

why.py says why each rule fired and why others did not, and searches for counterfactuals:
every candidate set of changed answers is assessed again through the engine, never inferred,
so a suggested change is one that was seen to work. diff.py compares two decisions of one
project (answers, findings, verdict, strategy); text.py renders both for the terminal.
"""

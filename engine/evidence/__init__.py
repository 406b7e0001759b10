"""Measured evidence for the rule base: baselines trained with scikit-learn, drift and bias.

`benchmark` trains the simplest candidates (a majority/mean baseline, a one-rule tree, a linear
model, gradient boosting) so that the ladder's "start simple" advice rests on figures.
`drift` compares a deployed model's current data with its reference, in chunks, so that files
larger than memory can be checked. Both write the evidence formats of CONTRACT section 4.
"""

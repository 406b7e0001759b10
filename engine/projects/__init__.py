"""Projects: the assessments of one project over time (its history, with what changed and
where its review stands), and the latest state of every project (the portfolio).

Everything is read from the audit log; nothing here is stored apart from it.
"""

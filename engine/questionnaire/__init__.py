"""The questionnaire: fields.py turns knowledge/questionnaire.yaml and the answers model into
typed fields and answers documents, shared by both front-ends; wizard.py is the terminal one
(the web form is engine/web/forms.py, which uses only fields.py's public names)."""

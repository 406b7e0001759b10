"""The questionnaire: its fields, shared by the terminal wizard and the web form."""

"""Answers editable in the admin: stored, versioned and published from the database.

Rasa-free: the web app, the action server and the Rasa server all use it. The
Rasa NLG class is in :mod:`bot.answers.rasa_nlg`, which only the Rasa server imports.
"""

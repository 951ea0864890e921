"""The answer library: every scripted answer in one catalogue, and its search.

``catalogue.py`` builds the catalogue from the assistant's own sources (domain
responses, answer rules, journeys, NLU examples), so it never drifts from what
the bot says; ``search.py`` ranks it for a typed query. Used by the web app's
``/library`` pages and by Telegram inline mode.
"""

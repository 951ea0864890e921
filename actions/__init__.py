"""Custom Rasa SDK actions of Trợ lý số (run by `python -m rasa_sdk --actions actions`)."""

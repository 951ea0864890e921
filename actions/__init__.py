"""Custom Rasa SDK actions of Trợ lý số (run by `python -m bot.action_server`, rasa_sdk's executor behind a shared-secret check)."""

"""Trợ lý số: a Vietnamese digital-services assistant built on Rasa."""

"""Every table we own (models.py) and how to reach the database (engine.py)."""

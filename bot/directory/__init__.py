"""Team directory: commune/ward -> its community digital technology team.

teams.py (the look-up), csv_io.py (read, validate and write the CSV),
store.py (the `teams` table, seeding, the 30 s cache), cli.py (the commands).
"""
from bot.directory.store import default_directory
from bot.directory.teams import Directory, Team, commune_key, in_sentence

__all__ = ["Directory", "Team", "commune_key", "default_directory", "in_sentence"]

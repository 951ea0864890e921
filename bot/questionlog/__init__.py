"""Question log: residents' messages kept for admins, with personal data masked."""

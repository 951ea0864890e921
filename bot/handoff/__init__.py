"""The live hand-off to a person of the commune's community team (tickets, relay)."""

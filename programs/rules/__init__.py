"""Page rules in code, applied to every page whatever the LM said."""

"""`themepage serve-offline-lm`: the offline engine behind an OpenAI-compatible HTTP endpoint."""

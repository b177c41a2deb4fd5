"""The LM layer: settings, the plug, adapters and constrained outputs, retries, deadlines, the response cache,
usage accounting, the local model server and model fetch."""

"""DSPy signatures: each docstring is the instruction an optimizer may rewrite."""

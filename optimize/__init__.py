"""Compiling: DSPy optimizers per objective, the one evaluation path (on `dspy.Evaluate`), compiled-file load/save.

Sits above programs/, metrics/ and trainsets/ and may import them; the core package never imports it.
"""

"""Programs that make a Page: the DSPy programs and the non-LLM baselines."""

"""The offline engine: a test double for an LM, for tests, CI and the demo.

Deterministic and catalog-grounded: behind DSPy's engine contract it answers the program's signatures by fixed
rules from the catalog index and the theme library (`themepage.library`), never invents a product, and follows
instructions only through the cue words of steering.py. It is never a source of quality claims: what its figures
can and cannot show is stated once, in docs/design.md ("What offline figures can and cannot show"). It reads no
grader (the placement scorer, the objectives' advice words); tests/test_layering.py keeps it so.
"""

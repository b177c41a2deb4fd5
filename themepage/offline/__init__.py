"""The offline engine: a test double for an LM, for tests, CI and the demo.

Deterministic and catalog-grounded: behind DSPy's engine contract it reads the prompt (prompt.py, reading.py),
recognises the signature (known.py) and answers by fixed rules, never inventing a product. Which themes suit a
shopper, what the catalog shows under each and which theme names a row are the program's own knowledge, kept
in the theme library (`themepage.library`); the planner and namer here only turn a read prompt into a call of
it and format the result. What is the stand-in's own: the cue words it follows instructions through
(steering.py), what it takes from demos, product choosing (choosing.py) and the MIPRO and GEPA proposers. It
is never a source of quality claims: what its figures can and cannot show is stated once, in docs/design.md
("What offline figures can and cannot show"). It reads no grader (the placement scorer, the objectives' advice
words); tests/test_layering.py keeps it so.
"""

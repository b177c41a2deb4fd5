"""The offline, catalog-grounded LM engine."""

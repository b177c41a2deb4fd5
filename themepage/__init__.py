"""themepage: personalized themed grocery pages as a declarative DSPy program."""

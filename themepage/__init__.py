"""themepage: personalized themed grocery pages as a declarative DSPy program."""

import os

# litellm fetches a model price map from the network at import unless told otherwise; never do that.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

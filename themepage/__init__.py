"""themepage: personalized themed grocery pages as a declarative DSPy program."""

import os

# litellm fetches a model price map from the network at import unless told otherwise; never do that.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
# The index's matrix products are small: BLAS worker threads only add wake-up cost (measured: twice the CPU
# per page on 2 cores). Set before numpy loads; a value the user exported wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

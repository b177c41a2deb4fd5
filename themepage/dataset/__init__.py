"""Reading Instacart-layout data: validated, streamed into numpy columns, cached on disk."""

from themepage.dataset.cache import load_dataset
from themepage.dataset.errors import DataError
from themepage.dataset.history import Histories, Order, UserHistory
from themepage.dataset.model import Catalog, Dataset
from themepage.dataset.reader import read_dataset

__all__ = ["Catalog", "DataError", "Dataset", "Histories", "Order", "UserHistory", "load_dataset", "read_dataset"]

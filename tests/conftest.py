"""Shared fixtures: an isolated cache directory for the whole session, and a tiny Kaggle-layout dataset.

Every cache a test could read is the session's own, set before anything imports DSPy or themepage (DSPy fixes
its disk cache folder at import) and inherited by subprocesses: answers or derived state left in
~/.dspy_cache or ~/.cache/themepage by older code must never make a test pass.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

SESSION_CACHES = Path(tempfile.mkdtemp(prefix="themepage-test-caches-"))
atexit.register(shutil.rmtree, SESSION_CACHES, ignore_errors=True)
os.environ["DSPY_CACHEDIR"] = str(SESSION_CACHES / "dspy")
os.environ["THEMEPAGE_CACHE_DIR"] = str(SESSION_CACHES / "themepage")
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"


@pytest.fixture(scope="session", autouse=True)
def isolated_cache_dir(tmp_path_factory) -> Path:
    """Point THEMEPAGE_CACHE_DIR at a per-session temp dir, so no test writes to the user's home."""
    folder = tmp_path_factory.mktemp("themepage-cache")
    previous = os.environ.get("THEMEPAGE_CACHE_DIR")
    os.environ["THEMEPAGE_CACHE_DIR"] = str(folder)
    try:
        yield folder
    finally:
        if previous is None:
            os.environ.pop("THEMEPAGE_CACHE_DIR", None)
        else:
            os.environ["THEMEPAGE_CACHE_DIR"] = previous


TINY_FILES = {
    "aisles.csv": """aisle_id,aisle
1,dairy eggs
2,bakery
3,fresh fruits
""",
    "departments.csv": """department_id,department
1,dairy
2,produce
""",
    "products.csv": """product_id,product_name,aisle_id,department_id
1,Milk,1,1
2,"Bread, white",2,2
3,Eggs,1,1
4,Apples,3,2
5,Bananas,3,2
6,Cheese,1,1
""",
    # user 1: four prior orders and a train order; user 2: three prior orders and a test order (no items).
    "orders.csv": """order_id,user_id,eval_set,order_number,order_dow,order_hour_of_day,days_since_prior_order
10,1,prior,1,1,9,
11,1,prior,2,2,10,7.0
12,1,prior,3,3,11,7.0
13,1,prior,4,4,12,7.0
14,1,train,5,5,13,7.0
20,2,prior,1,0,8,
21,2,prior,2,1,8,3.0
22,2,prior,3,2,8,3.0
23,2,test,4,3,8,3.0
""",
    "order_products__prior.csv": """order_id,product_id,add_to_cart_order,reordered
10,1,1,0
10,2,2,0
11,1,1,1
11,3,2,0
12,2,1,1
12,3,2,1
13,1,1,1
20,4,1,0
21,5,1,0
22,4,1,1
22,6,2,0
""",
    "order_products__train.csv": """order_id,product_id,add_to_cart_order,reordered
14,1,1,1
14,4,2,0
""",
    # anonymous orders: no row in orders.csv, used for co-purchase statistics only
    "baskets.csv": """order_id,product_id,add_to_cart_order,reordered
900,1,1,0
900,2,2,0
901,3,1,0
901,4,2,0
902,5,1,0
""",
}


def write_tiny_dataset(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in TINY_FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def tiny_data_dir(tmp_path) -> Path:
    """A minimal valid Kaggle-layout dataset in a fresh folder (each test may mutate its own copy)."""
    return write_tiny_dataset(tmp_path / "instacart")


# ----- offline DSPy and the real bundled index (shared by the program, metric and CLI tests) -----

import copy  # noqa: E402
import ipaddress  # noqa: E402
import socket  # noqa: E402

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _is_loopback(address) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class NetworkBlocked(RuntimeError):
    """Raised when code under test tries to reach anything but this machine."""


@pytest.fixture(autouse=True)
def offline_dspy(monkeypatch):
    """Fresh DSPy settings, no response cache, and any non-loopback network call fails the test."""
    import sys

    import dspy

    settings_module = sys.modules["dspy.dsp.utils.settings"]
    settings_module.main_thread_config.clear()
    settings_module.main_thread_config.update(copy.deepcopy(settings_module.DEFAULT_CONFIG))
    dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)

    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def guarded(real):
        def connect(sock, address):
            if sock.family == getattr(socket, "AF_UNIX", None) or _is_loopback(address):
                return real(sock, address)
            raise NetworkBlocked(f"test tried to reach {address!r}")
        return connect

    def getaddrinfo(host, *args, **kwargs):
        if host is None or _is_loopback(host):
            return real_getaddrinfo(host, *args, **kwargs)
        raise NetworkBlocked(f"test tried to resolve {host!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded(real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guarded(real_connect_ex))
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield


@pytest.fixture(scope="session")
def index(isolated_cache_dir):
    """The catalog index of the bundled data (built once per session into the isolated cache)."""
    from themepage.constants import BUNDLED_DATA_DIR
    from themepage.index import CatalogIndex

    return CatalogIndex.open(BUNDLED_DATA_DIR, isolated_cache_dir)


ADAPTER_NAMES = ("chat", "json")


@pytest.fixture(scope="module")
def lm(index):
    """The offline LM over the bundled index, without DSPy's cache (every call reaches the engine)."""
    from themepage.lm.plug import make_lm

    return make_lm("offline", index, cache=False)


@pytest.fixture(params=ADAPTER_NAMES)
def adapter(request, lm):
    """Both adapters in turn, with the offline LM configured; the adapter's name."""
    import dspy

    dspy.configure(lm=lm, adapter={"chat": dspy.ChatAdapter, "json": dspy.JSONAdapter}[request.param]())
    return request.param

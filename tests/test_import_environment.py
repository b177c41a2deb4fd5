"""Importing themepage changes no environment variable; litellm still loads its bundled price map, never the network's.

litellm reads LITELLM_LOCAL_MODEL_COST_MAP when it is imported (DSPy imports it lazily, on an LM's first call):
the LM plug, which makes every LM, and the CLI's entry point set it; `import themepage` does not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

VARIABLE = "LITELLM_LOCAL_MODEL_COST_MAP"


def run_python(code: str, tmp_path) -> dict:
    """Run `code` in a fresh interpreter without the variable; it prints one JSON line."""
    env = {key: value for key, value in os.environ.items() if key != VARIABLE}
    child = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=300)
    assert child.returncode == 0, child.stderr
    return json.loads(child.stdout.strip().splitlines()[-1])


def test_importing_themepage_leaves_the_environment_alone(tmp_path):
    code = ("import json, os\nbefore = dict(os.environ)\n"
            "import themepage, themepage.constants, themepage.objectives, themepage.page\n"
            "after = dict(os.environ)\n"
            "print(json.dumps(sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))))")
    assert run_python(code, tmp_path) == []


NO_NETWORK = """
import json, socket
tries = []
def refuse(*args, **kwargs):
    tries.append(repr(args[:2]))
    raise OSError("network refused by the test")
socket.getaddrinfo = refuse
socket.create_connection = refuse
socket.socket.connect = lambda self, address: refuse(address)
"""


def test_an_lm_made_by_the_plug_loads_litellm_with_its_bundled_price_map(tmp_path):
    code = NO_NETWORK + (
        "from themepage.lm.plug import make_lm\n"
        "make_lm('openai/probe', api_base='http://127.0.0.1:9/v1', engine='litellm')\n"
        "from litellm.litellm_core_utils.get_model_cost_map import get_model_cost_map_source_info as info\n"
        "print(json.dumps({'tries': tries, 'source': info()['source'], 'forced': info()['is_env_forced']}))")
    assert run_python(code, tmp_path) == {"tries": [], "source": "local", "forced": True}


def test_the_command_line_sets_the_variable_before_any_command_runs(monkeypatch, capsys):
    from themepage.cli.app import main

    monkeypatch.delenv(VARIABLE, raising=False)
    try:
        main(["--version"])
    except SystemExit as exit_:
        assert exit_.code in (0, None)
    assert "themepage" in capsys.readouterr().out and os.environ[VARIABLE] == "True"

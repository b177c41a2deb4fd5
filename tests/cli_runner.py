"""Run `themepage` commands in-process through the console entry point, as a user would."""

import sys


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """`themepage <args>` through the console entry point: (exit code, stdout, stderr)."""
    from themepage.cli.app import main

    monkeypatch.setattr(sys, "argv", ["themepage", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err

"""What `themepage compile` prints: one progress display and a summary line; DSPy's bars and logs only with
--verbose; everything it silenced restored after; an interrupted save leaves no file behind."""

import inspect
import io
import logging
import re
import sys

import tqdm.std
from cli_runner import run_cli
from rich.console import Console

from themepage.cli.phases import Phases, duration
from themepage.cli.quiet import quiet_optimizers

FAST_COMPILE = ("compile", "--objective", "relevance", "--program", "bottoms-up", "--train-size", "1",
                "--val-size", "1")
TQDM_MARKS = re.compile(r"it/s|s/it|\d+%\|")
DSPY_LOG_LINE = re.compile(r"^\S+ \S+ (INFO|DEBUG) dspy", re.M)
SUMMARY = re.compile(r"^saved (\S+): relevance / bottoms-up / (bootstrap|knn); score on 1 validation examples "
                     r"\d\.\d{3} -> \d\.\d{3}; \d+\.\d min$")


def _silenced_state():
    """What quiet_optimizers changes: the loggers' levels, handlers and propagation, tqdm's constructor, sys.stdout."""
    loggers = [logging.getLogger(name) for name in ("dspy", "gepa", "optuna", "LiteLLM", "httpx")]
    return ([(lg.level, lg.handlers[:], lg.propagate) for lg in loggers], vars(tqdm.std.tqdm)["__init__"],
            sys.stdout)


# ----- the compile command ------------------------------------------------------------------------------------

def test_compile_shows_no_dspy_bars_or_logs_and_ends_with_one_summary_line(monkeypatch, capsys, tmp_path):
    """knn: its compiled program bootstraps demos (a tqdm bar, a print) while it makes each page."""
    out = tmp_path / "bottoms-up.json"
    before = _silenced_state()
    code, stdout, stderr = run_cli(monkeypatch, capsys, *FAST_COMPILE, "--optimizer", "knn", "--out", str(out))
    assert code == 0, stderr
    assert not TQDM_MARKS.search(stderr + stdout), stderr
    assert not DSPY_LOG_LINE.search(stderr + stdout), stderr
    assert "compiling with knn" in stderr and "scoring the compiled program: 1/1 pages" in stderr
    lines = stdout.strip().splitlines()
    summary = SUMMARY.match(lines[0]) if len(lines) == 1 else None
    assert summary is not None, stdout
    assert summary.group(1) == str(out) and out.is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["bottoms-up.json"]  # no partial file left beside it
    assert _silenced_state() == before


def test_compile_verbose_shows_dspy_bars_and_info_logs(monkeypatch, capsys, tmp_path):
    code, stdout, stderr = run_cli(monkeypatch, capsys, *FAST_COMPILE, "--optimizer", "bootstrap", "--out",
                                   str(tmp_path / "c.json"), "--verbose")
    assert code == 0, stderr
    assert TQDM_MARKS.search(stderr), stderr
    assert DSPY_LOG_LINE.search(stderr), stderr
    assert SUMMARY.match(stdout.strip().splitlines()[-1]), stdout


def test_compile_error_is_one_line_and_restores_what_it_silenced(monkeypatch, capsys, tmp_path):
    before = _silenced_state()
    code, stdout, stderr = run_cli(monkeypatch, capsys, "compile", "--optimizer", "sgd", "--program", "bottoms-up",
                                   "--out", str(tmp_path / "c.json"))
    assert code == 2
    assert [line for line in stderr.splitlines() if line.startswith("error:")] == [
        "error: unknown optimizer 'sgd'; choose from: bootstrap, random-search, knn, gepa, mipro, teacher"]
    assert "Traceback" not in stderr and not list(tmp_path.iterdir())
    assert _silenced_state() == before


def test_interrupted_save_leaves_no_half_written_file(monkeypatch, capsys, tmp_path):
    import themepage.optimize.compiled_files as compiled_files

    def interrupt(*args, **kwargs):  # runs after DSPy wrote the state, before our metadata is added
        raise KeyboardInterrupt

    monkeypatch.setattr(compiled_files, "predictor_fingerprints", interrupt)
    code, _, stderr = run_cli(monkeypatch, capsys, *FAST_COMPILE, "--optimizer", "knn", "--out",
                              str(tmp_path / "c.json"))
    assert code == 130, stderr
    assert not list(tmp_path.iterdir())


# ----- the quiet block ----------------------------------------------------------------------------------------

def test_quiet_block_silences_bars_logs_and_prints_then_restores_them(capsys):
    before = _silenced_state()
    bar_output = io.StringIO()
    with quiet_optimizers():
        for _ in tqdm.std.tqdm(range(3), file=bar_output, mininterval=0):
            pass
        logging.getLogger("dspy.teleprompt.gepa.gepa").info("Iteration 1: hidden")
        print("Best score so far: hidden")
        assert _silenced_state() != before
    assert bar_output.getvalue() == ""
    assert "hidden" not in capsys.readouterr().out
    assert _silenced_state() == before
    for _ in tqdm.std.tqdm(range(3), file=bar_output, mininterval=0):
        pass
    assert "3/3" in bar_output.getvalue()


def test_quiet_block_restores_after_an_exception_and_warnings_still_pass():
    before = _silenced_state()
    try:
        with quiet_optimizers():
            assert logging.getLogger("dspy").isEnabledFor(logging.WARNING)
            assert not logging.getLogger("dspy").isEnabledFor(logging.INFO)
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert _silenced_state() == before


def test_quiet_block_counts_warnings_and_still_shows_errors(capsys):
    with quiet_optimizers() as hidden:
        logging.getLogger("dspy.predict.predict").warning("Input contains fields not in signature")
        logging.getLogger("dspy.teleprompt.mipro_optimizer_v2").warning("another")
        logging.getLogger("dspy.clients.lm").error("the provider failed")
    err = capsys.readouterr().err
    assert hidden.warnings == 2
    assert "the provider failed" in err and "not in signature" not in err and "another" not in err


def test_verbose_quiet_block_changes_nothing():
    before = _silenced_state()
    with quiet_optimizers(verbose=True):
        assert _silenced_state() == before


# ----- the phases display -------------------------------------------------------------------------------------

def test_plain_phases_print_one_line_per_finished_phase_with_its_count():
    stream = io.StringIO()
    with Phases(Console(file=stream, width=200), live=False) as phases:
        phases.tick()  # between phases: ignored
        with phases.phase("compiling with gepa", total=1200, unit="metric calls"):
            for _ in range(3):
                phases.tick("metric calls")
            phases.tick("pages")  # another unit than this phase counts: ignored
        with phases.phase("saving"):
            pass
    assert stream.getvalue().splitlines() == ["compiling with gepa: 3/1200 metric calls (0s)", "saving (0s)"]


def test_live_phases_render_a_progress_display_on_a_terminal():
    stream = io.StringIO()
    with Phases(Console(file=stream, force_terminal=True, width=120), live=True) as phases:
        with phases.phase("scoring the compiled program", total=2, unit="pages"):
            phases.tick()
            phases.tick()
    shown = stream.getvalue()
    assert "scoring the compiled program" in shown and "2/2 pages" in shown and "\x1b[" in shown


def test_ticking_metric_keeps_the_signature_dspy_inspects_and_counts_pages_not_gepa_feedback():
    from themepage.cli.compile import METRIC_CALLS, _ticking_metric

    stream = io.StringIO()

    def metric(gold, pred, trace=None, pred_name=None, pred_trace=None):
        return 0.5

    with Phases(Console(file=stream), live=False) as phases:
        counted = _ticking_metric(metric, phases)
        assert list(inspect.signature(counted).parameters) == ["gold", "pred", "trace", "pred_name", "pred_trace"]
        with phases.phase("compiling", total=1200, unit=METRIC_CALLS):
            assert counted(1, 2) == 0.5 and counted(1, 2, []) == 0.5
            assert counted(1, 2, [], "generate", []) == 0.5  # GEPA's feedback for one predictor: not a new page
    assert stream.getvalue().startswith("compiling: 2/1200 metric calls")


def test_duration_reads_as_seconds_then_minutes():
    assert (duration(0.4), duration(42), duration(185)) == ("0s", "42s", "3m 05s")


def test_budget_bounds_gepa_and_shows_as_the_progress_total(monkeypatch, capsys, tmp_path):
    """--budget reaches dspy.GEPA as max_metric_calls (a real, tiny gepa run) and is the progress display's total."""
    import dspy

    seen = {}
    real_gepa = dspy.GEPA

    def recording_gepa(*args, **kwargs):
        seen.update(kwargs)
        return real_gepa(*args, **kwargs)

    monkeypatch.setattr(dspy, "GEPA", recording_gepa)
    out = tmp_path / "bottoms-up.json"
    code, stdout, stderr = run_cli(monkeypatch, capsys, *FAST_COMPILE, "--optimizer", "gepa", "--budget", "6",
                                   "--out", str(out))
    assert code == 0, stderr
    assert seen["max_metric_calls"] == 6 and out.is_file()
    assert re.search(r"compiling with gepa \(1 train, 1 val examples\): \d+/6 metric calls", stderr), stderr
    code, _, stderr = run_cli(monkeypatch, capsys, *FAST_COMPILE, "--budget", "0")
    assert code == 2 and "--budget" in stderr

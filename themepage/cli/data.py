"""`themepage data check`: validate a data directory and summarize what it holds."""

from __future__ import annotations

from rich.markup import escape

from themepage.cli.common import DataOpt, console, err_console
from themepage.constants import BUNDLED_DATA_DIR


def data_check(data: DataOpt = BUNDLED_DATA_DIR) -> None:
    """Validate a data directory and summarize what it holds."""
    from themepage.cases import evaluation_cases
    from themepage.dataset import Histories, read_dataset

    dataset = read_dataset(data)
    histories = Histories(dataset)
    console.print(f"[bold]{escape(str(data))}[/bold]: valid")
    rows = [("products", len(dataset.catalog)), ("aisles", len(dataset.catalog.aisles)),
            ("departments", len(dataset.catalog.departments)), ("orders", len(dataset.orders)),
            ("users", len(dataset.user_ids)), ("users with a history", len(histories.user_ids)),
            ("prior item rows", len(dataset.prior)), ("train item rows", len(dataset.train)),
            ("anonymous basket item rows", len(dataset.baskets)),
            ("evaluation cases", len(evaluation_cases(histories)))]
    for label, value in rows:
        console.print(f"  {label:<28}{value:>12,}")
    for message in dataset.skipped:
        err_console.print(f"[yellow]warning:[/yellow] {escape(message)}")

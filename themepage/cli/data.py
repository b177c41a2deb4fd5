"""`themepage data check` validates a data directory and summarizes it; `data import` converts your own catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from themepage.cli.common import CliError, DataOpt, console, err_console, store_of_data
from themepage.constants import BUNDLED_DATA_DIR
from themepage.dataset.store_kind import DEFAULT_KIND


def data_check(data: DataOpt = BUNDLED_DATA_DIR) -> None:
    """Validate a data directory and summarize what it holds."""
    from themepage.dataset import Histories, read_dataset
    from themepage.dataset.cases import evaluation_case_count

    store = store_of_data(data)
    dataset = read_dataset(data)
    histories = Histories(dataset)
    origin = "Instacart's data" if store.instacart else "its own catalog"
    console.print(f"[bold]{escape(str(data))}[/bold]: valid, a {escape(store.kind)} ({origin})")
    rows = [("products", len(dataset.catalog)), ("aisles", len(dataset.catalog.aisles)),
            ("departments", len(dataset.catalog.departments)), ("orders", len(dataset.orders)),
            ("users", len(dataset.user_ids)), ("users with a history", len(histories.user_ids)),
            ("prior item rows", len(dataset.prior)), ("train item rows", len(dataset.train)),
            ("anonymous basket item rows", len(dataset.baskets)),
            ("evaluation cases", evaluation_case_count(histories))]
    for label, value in rows:
        console.print(f"  {label:<28}{value:>12,}")
    for name in dataset.absent:
        console.print(f"  {escape(name):<28}{'absent':>12}")
    for message in dataset.skipped:
        err_console.print(f"[yellow]warning:[/yellow] {escape(message)}")


def data_import(source: Annotated[Path, typer.Argument(help="Folder with products.csv, orders.csv, order_items.csv.")],
                out: Annotated[Path, typer.Option("--out", help="Folder to write the Instacart-layout files to.")],
                store_kind: Annotated[str, typer.Option(
                    "--store-kind", help="What the store is, recorded in DIR/store.toml (e.g. 'hardware store').")]
                = DEFAULT_KIND) -> None:
    """Convert your own catalog (layout: themepage/dataset/own_catalog.py) into a data directory for --data."""
    from themepage.dataset.own_catalog import read_own_catalog, write_instacart_layout
    from themepage.dataset.store_kind import Store, check_kind, write_store_file

    try:
        kind = check_kind(store_kind)
    except ValueError as exc:
        raise CliError(f"--store-kind: {exc}") from None
    if out.exists() and any(out.iterdir()):
        raise CliError(f"{out.resolve()}: not empty; give a new or empty folder")
    dataset = read_own_catalog(source)
    write_instacart_layout(dataset, out)
    write_store_file(out, Store(kind, "own"))
    console.print(f"{escape(str(source))} -> {escape(str(out))}: a {escape(kind)}, {len(dataset.catalog):,} products, "
                  f"{len(dataset.orders):,} orders, {len(dataset.user_ids):,} users")
    for message in dataset.skipped:
        err_console.print(f"[yellow]warning:[/yellow] {escape(message)}")

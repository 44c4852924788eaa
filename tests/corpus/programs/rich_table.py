"""rich: a table rendered for a plain (non-terminal) output."""
from rich import box
from rich.console import Console
from rich.table import Table

table = Table(title="Packages", box=box.ASCII)
table.add_column("name")
table.add_column("kind", justify="right")
for name, kind in [("pygments", "pure"), ("pyyaml", "native"), ("certifi", "data")]:
    table.add_row(name, kind)
Console(width=50, color_system=None).print(table)

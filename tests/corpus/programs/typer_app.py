"""typer: a command from type hints, run with arguments."""
import typer

app = typer.Typer(add_completion=False)


@app.command()
def add(a: int, b: int, verbose: bool = False):
    typer.echo(f"{a} + {b} = {a + b}" if verbose else str(a + b))


app(["2", "40", "--verbose"], standalone_mode=False)

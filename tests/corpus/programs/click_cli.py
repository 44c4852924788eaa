"""click: a command group, its help and a command run with arguments."""
import click


@click.group()
def cli():
    """A small tool."""


@cli.command()
@click.option("--name", default="world", help="who to greet")
@click.option("--count", type=int, default=2)
def greet(name, count):
    """Say hello."""
    for _ in range(count):
        click.echo(f"hello {name}")


cli(["greet", "--name", "relink", "--count", "3"], standalone_mode=False)
try:
    cli(["--help"], prog_name="tool")
except SystemExit as exit:
    print("exit", exit.code)

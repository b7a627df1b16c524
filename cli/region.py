"""`unstuck region`: choose, show or forget the region whose help lines a flagged entry shows."""

from __future__ import annotations

import typer

from unstuck.cli.common import app, fail

region_app = typer.Typer(rich_markup_mode=None, no_args_is_help=True,
                         help="The region whose crisis and abuse help lines are shown (us, ca, uk, ie, au, nz, eu).")
app.add_typer(region_app, name="region")


@region_app.command("set")
def set_region(code: str = typer.Argument(..., help="us, ca, uk, ie, au, nz or eu.")) -> None:
    """Save the region; `tag` and `batch` use it unless --region or UNSTUCK_REGION says otherwise."""
    from unstuck.data.region import save_region

    typer.echo(f"region set to {save_region(code)}")


@region_app.command("show")
def show_region() -> None:
    """The region in use and where it came from."""
    from unstuck.data.resources import UnknownRegion
    from unstuck.data.region import chosen_region, region_source

    try:
        chosen = chosen_region()
    except UnknownRegion as err:  # a bad UNSTUCK_REGION or saved file: say which it was
        fail(f"{err} (from {region_source()})")
    typer.echo(f"{chosen or 'none'} (from {region_source()})")


@region_app.command("clear")
def clear_region() -> None:
    """Forget the saved region (then the system locale decides, else every region is listed)."""
    from unstuck.data.region import clear_region as forget

    typer.echo("saved region cleared" if forget() else "no region was saved")

"""The `unstuck` command line: Typer commands that parse, call one library function, and render."""

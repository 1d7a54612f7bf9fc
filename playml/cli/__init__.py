from playml.cli.main import main

__all__ = ["main"]

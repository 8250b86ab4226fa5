"""The `billreel` command: serve, worker, keys, render one bill locally, a billing run, demo."""

from app.cli.main import main

__all__ = ["main"]

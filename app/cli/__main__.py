"""`python -m app.cli`, the same as `billreel`."""

from app.cli.main import main

main()

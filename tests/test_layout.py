"""The design's one direction: `renderers` never imports the service's infrastructure."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"flask", "redis", "rq", "sqlalchemy", "boto3", "botocore", "app", "waitress"}


def test_renderers_import_no_service_infrastructure() -> None:
    offenders = []
    for path in (ROOT / "renderers").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [
                f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in FORBIDDEN
            ]
    assert offenders == []


def test_layout_of_the_design_card_exists() -> None:
    for place in [
        "app/__init__.py",
        "app/settings.py",
        "app/bills.py",
        "app/errors.py",
        "app/api",
        "app/links.py",
        "app/jobs.py",
        "app/storage.py",
        "app/db.py",
        "app/analytics.py",
        "app/cli.py",
        "renderers/__init__.py",
        "renderers/templates.py",
        "renderers/formatting.py",
        "renderers/video",
        "renderers/microsite",
        "scenes/bill-explainer",
        "microsite_templates/bill-explainer",
        "worker.py",
        "Dockerfile",
        "docker-compose.yml",
        "pyproject.toml",
        "Makefile",
        "README.md",
        ".ci/run",
    ]:
        assert (ROOT / place).exists(), place

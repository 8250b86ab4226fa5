"""Every setting is documented: a new BILLREEL_* variable needs a line in the docs."""

from __future__ import annotations

import re
from dataclasses import fields

from tests.paths import REPO_ROOT


def documentation() -> str:
    pages = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
    return "\n".join(page.read_text(encoding="utf-8") for page in pages)


def test_every_setting_is_documented() -> None:
    from app.infra.settings import Settings

    names = [f.metadata["env"] for f in fields(Settings)]
    assert "BILLREEL_DATA_DIR" in names
    docs = documentation()
    undocumented = [name for name in names if f"`{name}`" not in docs]
    assert not undocumented, f"document these settings in docs/settings.md: {undocumented}"


def test_the_readme_names_the_core_settings() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for name in (
        "BILLREEL_DATA_DIR",
        "BILLREEL_PUBLIC_URL",
        "BILLREEL_DATABASE_URL",
        "BILLREEL_REDIS_URL",
        "BILLREEL_S3_BUCKET",
        "BILLREEL_S3_ENDPOINT_URL",
    ):
        assert f"`{name}`" in readme, name


def test_the_scaling_guide_rests_on_the_measured_billing_run() -> None:
    scaling = (REPO_ROOT / "docs" / "scaling.md").read_text(encoding="utf-8")
    benchmarks = (REPO_ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    section = benchmarks.split("\n## Billing run at scale\n", 1)
    assert len(section) == 2, "docs/benchmarks.md needs its `## Billing run at scale` section"
    assert "bench_scale.py" in section[1].split("\n## ", 1)[0]
    assert "benchmarks.md#billing-run-at-scale" in scaling
    for needed in ("1,000,000", "12 hours", "BILLREEL_WORKERS", "Kubernetes", "docker compose"):
        assert needed in scaling, needed
    names = re.findall(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b", scaling)
    unfilled = [n for n in names if not n.startswith(("BILLREEL_", "BENCH_SCALE_"))]
    assert not unfilled, f"figures still to fill in docs/scaling.md: {unfilled}"

"""Finding the version a render names, importing the shipped bundles on first need.

The bundles under `scenes/` and `microsite_templates/` become their template's first version
when the service, starting with none of that name, first looks for one (a render, a listing,
the studio): the same outcome as importing at start-up, without every process start paying
for it.
"""

from __future__ import annotations

from app.infra.database import Template
from app.infra.services import Services
from app.templates.seed import import_shipped
from app.templates.store import VersionInfo, VersionNotFound, parse_ref, resolve
from renderers.templates import template_names


def ensure_shipped(services: Services) -> None:
    """Import the shipped bundles the store does not have yet."""
    with services.db.session() as session:
        known = {name for name in template_names() if session.get(Template, name) is not None}
    if known != set(template_names()):
        import_shipped(services)


def find_version(services: Services, ref: str, *, allow_draft: bool = False) -> VersionInfo:
    """The version `ref` (NAME or NAME@N) names; VersionNotFound or ValueError otherwise."""
    try:
        return resolve(services.db, ref, allow_draft=allow_draft)
    except VersionNotFound:
        name, _ = parse_ref(ref)
        if name not in template_names():
            raise
        with services.db.session() as session:
            if session.get(Template, name) is not None:
                raise
        import_shipped(services)
        return resolve(services.db, ref, allow_draft=allow_draft)

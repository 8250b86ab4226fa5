"""The bundles the repository ships (`scenes/NAME`, `microsite_templates/NAME`) become their
template's first version, published, when the service starts with none of that name."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from app.infra.database import Template
from app.infra.services import Services
from app.templates.files import shipped_files
from app.templates.store import import_published
from renderers.templates import template_names

log = logging.getLogger(__name__)
IMPORT_AUTHOR = "billreel"


def import_shipped(services: Services) -> list[str]:
    """Import every shipped bundle not in the store yet; returns the refs imported."""
    made = []
    for name in template_names():
        with services.db.session() as session:
            if session.get(Template, name) is not None:
                continue
        try:
            version = import_published(
                services, name, shipped_files(name), author=IMPORT_AUTHOR,
                message=f"Imported from scenes/{name} and microsite_templates/{name}",
            )  # fmt: skip
        except IntegrityError:  # another process starting at the same time imported it
            continue
        log.info("template imported", extra={"template": version.ref})
        made.append(version.ref)
    return made

"""What each scope of API key may do.

- `billing`: renders, billing runs, payments, webhooks, analytics, customers; it may read
  templates (to name a version) but not change or publish one.
- `marketing`: templates only (edit, preview, publish, roll back); no customer data.
- `admin`: everything, including keys, sessions and the audit trail.
"""

from __future__ import annotations

from typing import Literal, get_args

Scope = Literal["billing", "marketing", "admin"]
SCOPES: tuple[Scope, ...] = get_args(Scope)

Permission = Literal["billing", "templates.read", "templates.write", "admin"]

GRANTS: dict[str, frozenset[Permission]] = {
    "billing": frozenset({"billing", "templates.read"}),
    "marketing": frozenset({"templates.read", "templates.write"}),
    "admin": frozenset({"billing", "templates.read", "templates.write", "admin"}),
}


def allows(scope: str, permission: Permission) -> bool:
    return permission in GRANTS.get(scope, frozenset())


def scopes_allowing(permission: Permission) -> list[str]:
    return [s for s in SCOPES if allows(s, permission)]

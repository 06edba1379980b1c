"""The permission registry: each domain declares the permissions it checks and which roles hold
them, in its ``registrations`` module; nothing here names a domain.

A permission is ``<area>:<action>`` (``tickets:write``). The roles are the platform's
(:data:`ROLES`); ``admin`` holds every registered permission, whoever registered it. The other
roles hold what the registering domains grant them::

    register_permissions(
        "desk",
        {"tickets:read": "read tickets of one's teams", "tickets:write": "work on tickets"},
        grants={"manager": ["tickets:read", "tickets:write"], "agent": ["tickets:read"]},
    )

The platform registers its own (users, audit, one's profile) below. Checking an unregistered
permission is a programming error (``ValueError``): a typo must not quietly deny everyone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = [
    "ROLES",
    "Permission",
    "all_permissions",
    "is_registered",
    "permission_catalog",
    "register_permissions",
    "role_permissions",
]

#: The roles every deployment has, most powerful first.
ROLES = ("admin", "manager", "agent", "read_only")


@dataclass(frozen=True)
class Permission:
    name: str
    description: str
    domain: str


_PERMISSIONS: dict[str, Permission] = {}
_GRANTS: dict[str, set[str]] = {role: set() for role in ROLES}


def register_permissions(
    domain: str,
    permissions: Mapping[str, str],
    *,
    grants: Mapping[str, Iterable[str]] | None = None,
) -> None:
    """Declare ``domain``'s permissions (name -> description) and grant them to roles.

    Registering a permission again from the same domain replaces its description; a name
    another domain registered is refused (two domains cannot both own ``tickets:read``)."""
    for name, description in permissions.items():
        area, _, action = name.partition(":")
        if not area or not action:
            raise ValueError(f"a permission is '<area>:<action>', not {name!r}")
        known = _PERMISSIONS.get(name)
        if known is not None and known.domain != domain:
            raise ValueError(f"permission {name!r} is already registered by {known.domain!r}")
        _PERMISSIONS[name] = Permission(name, description, domain)
    for role, names in (grants or {}).items():
        if role not in _GRANTS:
            raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        granted = set(names)
        unknown = granted - _PERMISSIONS.keys()
        if unknown:
            raise ValueError(f"cannot grant unregistered permissions {sorted(unknown)}")
        _GRANTS[role] |= granted


def is_registered(name: str) -> bool:
    return name in _PERMISSIONS


def all_permissions() -> frozenset[str]:
    """Every registered permission (what ``admin`` and the system hold)."""
    return frozenset(_PERMISSIONS)


def role_permissions(role: str) -> frozenset[str]:
    """What ``role`` holds now (``admin``: every registered permission)."""
    if role not in _GRANTS:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    if role == "admin":
        return all_permissions()
    return frozenset(_GRANTS[role])


def permission_catalog() -> list[Permission]:
    """Every registered permission with its description and domain, by name."""
    return [_PERMISSIONS[name] for name in sorted(_PERMISSIONS)]


register_permissions(
    "platform",
    {
        "users:admin": "manage staff accounts, roles, teams' members and tokens; erase data",
        "audit:read": "read the audit trail",
        "profile:write": "change one's own display name and language",
        "users:absence": "see the staff list and mark colleagues away or back",
    },
    grants={
        "manager": ["audit:read", "profile:write", "users:absence"],
        "agent": ["profile:write"],
        "read_only": ["profile:write"],
    },
)

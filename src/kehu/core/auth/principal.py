"""The acting principal (a user, a user's API token, or the system itself) and what it may do.

Roles and their permissions::

    admin      everything, users and tokens included
    manager    all customers, tickets and value figures; team and policy settings
    agent      customers; tickets of their own teams; work on those tickets
    read_only  read customers, tickets of their teams, value figures

Every role also holds ``profile:write``: changing one's own display name and language.

A token's rights are its scopes intersected with its creator's *current* rights: build the
principal from the user as they are now, then narrow it with :meth:`Principal.with_scopes`.
So a token changes its user's profile only when it was given the ``profile:write`` scope, and
reading who one is (``GET /api/auth/me``) needs no scope at all. What no scope grants: a token
cannot create tokens, change a password or log out (it has no web session; a token ends by
being revoked).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from kehu.errors import PermissionDeniedError

ROLES = ("admin", "manager", "agent", "read_only")

#: Every permission kehu checks, as ``<area>:<action>``.
PERMISSIONS = frozenset(
    {
        "customers:read",
        "customers:write",
        "customers:merge",
        "tickets:read",
        "tickets:write",
        "tickets:all_teams",  # row scope: see tickets of every team, not only one's own
        "value:read",
        "value:run",
        "settings:write",  # teams, routing rules, SLA policies, calendars
        "users:admin",
        "audit:read",
        "profile:write",  # one's own display name and language (every role has it)
    }
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": PERMISSIONS,
    "manager": PERMISSIONS - {"users:admin"},
    "agent": frozenset(
        {"customers:read", "customers:write", "tickets:read", "tickets:write", "profile:write"}
    ),
    "read_only": frozenset({"customers:read", "tickets:read", "value:read", "profile:write"}),
}


@dataclass(frozen=True)
class Principal:
    """Who is acting. ``team_ids`` are the user's teams (for row scopes)."""

    user_id: int | None
    roles: frozenset[str]
    team_ids: frozenset[int] = field(default_factory=frozenset)
    permissions: frozenset[str] = field(default_factory=frozenset)
    display_name: str = ""
    token_id: int | None = None

    @classmethod
    def for_user(
        cls,
        user_id: int,
        roles: Iterable[str],
        team_ids: Iterable[int] = (),
        display_name: str = "",
    ) -> Principal:
        role_set = frozenset(roles)
        unknown = role_set - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles {sorted(unknown)}; roles are {', '.join(ROLES)}")
        permissions: frozenset[str] = frozenset().union(
            *(ROLE_PERMISSIONS[role] for role in role_set)
        )
        return cls(user_id, role_set, frozenset(team_ids), permissions, display_name)

    def with_scopes(self, scopes: Iterable[str], token_id: int | None = None) -> Principal:
        """The rights of a token: its scopes intersected with this principal's rights."""
        return replace(self, permissions=self.permissions & frozenset(scopes), token_id=token_id)

    def can(self, permission: str) -> bool:
        if permission not in PERMISSIONS:
            raise ValueError(f"unknown permission {permission!r}")
        return permission in self.permissions

    @property
    def is_system(self) -> bool:
        return self.user_id is None


def require(principal: Principal, permission: str) -> None:
    """Raise :class:`PermissionDeniedError` unless ``principal`` holds ``permission``."""
    if not principal.can(permission):
        raise PermissionDeniedError(f"not allowed: this needs the permission {permission!r}")


#: The system itself (workers, migrations, the demo builder): every permission, no user.
SYSTEM = Principal(
    user_id=None, roles=frozenset({"admin"}), permissions=PERMISSIONS, display_name="system"
)

"""The acting principal (a user, a user's API token, or the system itself) and what it may do.

The roles are the platform's (``admin``, ``manager``, ``agent``, ``read_only``); what each holds
is what the domains granted it in the permission registry (:mod:`kehu.core.auth.permissions`):
``admin`` everything, ``manager`` all but staff administration, ``agent`` customers and their own
teams' tickets, ``read_only`` reading. Every role holds ``profile:write`` (one's own display name
and language).

A token's rights are its scopes intersected with its creator's *current* rights: build the
principal from the user as they are now, then narrow it with :meth:`Principal.with_scopes`.
So a token changes its user's profile only when it was given the ``profile:write`` scope, and
reading who one is (``GET /api/auth/me``) needs no scope at all. What no scope grants: a token
cannot create tokens, change a password or log out (it has no web session; a token ends by
being revoked).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from kehu.core.auth.permissions import ROLES, is_registered, role_permissions
from kehu.errors import PermissionDeniedError


class _RolePermissions(Mapping[str, frozenset[str]]):
    """``role -> permissions`` as the registry has them now (a read-only view)."""

    def __getitem__(self, role: str) -> frozenset[str]:
        if role not in ROLES:
            raise KeyError(role)
        return role_permissions(role)

    def __iter__(self) -> Iterator[str]:
        return iter(ROLES)

    def __len__(self) -> int:
        return len(ROLES)


#: What each role holds (computed from :mod:`kehu.core.auth.permissions`).
ROLE_PERMISSIONS: Mapping[str, frozenset[str]] = _RolePermissions()


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
        if not is_registered(permission):
            raise ValueError(f"unknown permission {permission!r}")
        # the system holds every permission, including those registered after it was made
        return self.is_system or permission in self.permissions

    @property
    def is_system(self) -> bool:
        return self.user_id is None


def require(principal: Principal, permission: str) -> None:
    """Raise :class:`PermissionDeniedError` unless ``principal`` holds ``permission``."""
    if not principal.can(permission):
        raise PermissionDeniedError(f"not allowed: this needs the permission {permission!r}")


#: The system itself (workers, migrations, the demo builder): every permission, no user.
SYSTEM = Principal(user_id=None, roles=frozenset({"admin"}), display_name="system")

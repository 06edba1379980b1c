"""The permission registry (kehu.core.auth.permissions) and the principal (principal.py):
registering permissions and grants, what is refused, what a role, a token and the system hold.

Each test registers into copies of the registries (``registry`` below), so nothing it adds
outlives it. tests/core/test_new_domain.py shows a new domain's grants at work; this module
tests the registry's own rules."""

from __future__ import annotations

import pytest

import kehu.domains  # noqa: F401  (every domain's registrations, as in production)
from kehu.core.auth import ROLE_PERMISSIONS, SYSTEM, Principal, require
from kehu.core.auth import permissions as registry_module
from kehu.core.auth.permissions import (
    ROLES,
    Permission,
    all_permissions,
    is_registered,
    permission_catalog,
    register_permissions,
    role_permissions,
)
from kehu.errors import PermissionDeniedError


@pytest.fixture(autouse=True)
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Copies of the registry for the test (the grants' sets are copied too: they are updated
    in place)."""
    monkeypatch.setattr(registry_module, "_PERMISSIONS", dict(registry_module._PERMISSIONS))
    monkeypatch.setattr(
        registry_module,
        "_GRANTS",
        {role: set(granted) for role, granted in registry_module._GRANTS.items()},
    )


# -- registering ------------------------------------------------------------------------------


def test_a_registered_permission_is_in_the_catalog_with_its_domain() -> None:
    assert not is_registered("parcels:track")
    register_permissions("parcels", {"parcels:track": "follow a parcel"})
    assert is_registered("parcels:track")
    assert "parcels:track" in all_permissions()
    catalog = permission_catalog()
    assert [p.name for p in catalog] == sorted(p.name for p in catalog)  # by name
    assert Permission("parcels:track", "follow a parcel", "parcels") in catalog


def test_registering_again_from_the_same_domain_replaces_the_description() -> None:
    register_permissions("parcels", {"parcels:track": "follow a parcel"})
    register_permissions("parcels", {"parcels:track": "follow a parcel to the door"})
    tracked = [p for p in permission_catalog() if p.name == "parcels:track"]
    assert tracked == [Permission("parcels:track", "follow a parcel to the door", "parcels")]


def test_a_permission_another_domain_owns_is_refused_and_kept() -> None:
    with pytest.raises(ValueError, match="'users:admin' is already registered by 'platform'"):
        register_permissions("parcels", {"users:admin": "ours now"})
    owner = [p.domain for p in permission_catalog() if p.name == "users:admin"]
    assert owner == ["platform"]


@pytest.mark.parametrize("name", ["parcels", "parcels:", ":track", ""])
def test_a_permission_is_area_colon_action(name: str) -> None:
    with pytest.raises(ValueError, match="'<area>:<action>'"):
        register_permissions("parcels", {name: "malformed"})
    assert not is_registered(name)


def test_grants_to_an_unknown_role_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown role 'courier'"):
        register_permissions(
            "parcels", {"parcels:track": "follow a parcel"}, grants={"courier": ["parcels:track"]}
        )
    assert all("parcels:track" not in role_permissions(role) for role in ROLES[1:])


def test_granting_an_unregistered_permission_is_refused() -> None:
    with pytest.raises(
        ValueError, match=r"cannot grant unregistered permissions \['parcels:lose'\]"
    ):
        register_permissions(
            "parcels",
            {"parcels:track": "follow a parcel"},
            grants={"agent": ["parcels:track", "parcels:lose"]},
        )
    assert "parcels:track" not in role_permissions("agent")  # nothing of the refused grant


def test_grants_add_up_across_registrations() -> None:
    register_permissions(
        "parcels", {"parcels:track": "follow a parcel"}, grants={"agent": ["parcels:track"]}
    )
    register_permissions(
        "parcels", {"parcels:return": "send a parcel back"}, grants={"agent": ["parcels:return"]}
    )
    agent = role_permissions("agent")
    assert {"parcels:track", "parcels:return"} <= agent
    assert "profile:write" in agent  # the platform's grant is still there


def test_admin_holds_every_permission_without_a_grant() -> None:
    register_permissions("parcels", {"parcels:track": "follow a parcel"})
    assert role_permissions("admin") == all_permissions()
    assert "parcels:track" in role_permissions("admin")
    assert "parcels:track" not in role_permissions("manager")


def test_role_permissions_of_an_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown role 'owner'"):
        role_permissions("owner")


def test_the_platforms_own_grants() -> None:
    assert all("profile:write" in role_permissions(role) for role in ROLES)
    assert "audit:read" in role_permissions("manager")
    assert "audit:read" not in role_permissions("agent")
    assert "users:admin" not in role_permissions("manager")
    assert "users:admin" in role_permissions("admin")


def test_role_permissions_mapping_reads_the_registry_as_it_is_now() -> None:
    assert list(ROLE_PERMISSIONS) == list(ROLES) and len(ROLE_PERMISSIONS) == len(ROLES)
    with pytest.raises(KeyError):
        ROLE_PERMISSIONS["owner"]
    before = ROLE_PERMISSIONS["read_only"]
    register_permissions(
        "parcels", {"parcels:track": "follow a parcel"}, grants={"read_only": ["parcels:track"]}
    )
    assert ROLE_PERMISSIONS["read_only"] == before | {"parcels:track"}


# -- the principal ----------------------------------------------------------------------------


def test_a_user_holds_the_union_of_their_roles() -> None:
    both = Principal.for_user(3, ["agent", "read_only"], [7], display_name="Ann")
    assert both.permissions == role_permissions("agent") | role_permissions("read_only")
    assert (both.user_id, both.team_ids, both.display_name) == (3, frozenset({7}), "Ann")
    assert not both.is_system and both.token_id is None


def test_a_user_with_an_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown roles \['owner'\]"):
        Principal.for_user(3, ["agent", "owner"])


def test_checking_an_unknown_permission_is_an_error_for_everyone() -> None:
    """A typo must not quietly deny (or, for the system, quietly allow)."""
    agent = Principal.for_user(3, ["agent"])
    for principal in (agent, SYSTEM):
        with pytest.raises(ValueError, match="unknown permission 'tickets:raed'"):
            principal.can("tickets:raed")
        with pytest.raises(ValueError):  # not a PermissionDeniedError
            require(principal, "tickets:raed")


def test_require_refuses_what_the_principal_lacks() -> None:
    agent = Principal.for_user(3, ["agent"])
    require(agent, "tickets:write")
    with pytest.raises(PermissionDeniedError, match="'settings:write'"):
        require(agent, "settings:write")


def test_the_system_holds_every_permission_and_is_nobody() -> None:
    assert SYSTEM.is_system and SYSTEM.user_id is None
    assert SYSTEM.permissions == frozenset()  # held by being the system, not by a list
    assert all(SYSTEM.can(name) for name in all_permissions())
    register_permissions("parcels", {"parcels:track": "follow a parcel"})
    require(SYSTEM, "parcels:track")
    # an admin is a user: it holds what is registered when the principal is built
    admin = Principal.for_user(1, ["admin"])
    register_permissions("parcels", {"parcels:return": "send a parcel back"})
    assert admin.can("parcels:track") and not admin.can("parcels:return")


def test_a_tokens_scopes_intersect_its_users_rights() -> None:
    agent = Principal.for_user(3, ["agent"], [7])
    token = agent.with_scopes(["tickets:read", "settings:write"], token_id=42)
    # settings:write is a scope the agent does not hold: the token does not get it either
    assert token.permissions == frozenset({"tickets:read"})
    assert token.can("tickets:read")
    assert not token.can("tickets:write") and not token.can("settings:write")
    assert (token.user_id, token.roles, token.team_ids, token.token_id) == (
        3,
        frozenset({"agent"}),
        frozenset({7}),
        42,
    )
    assert agent.can("tickets:write")  # the user's own principal is unchanged
    assert agent.with_scopes([]).permissions == frozenset()

"""Who is acting: principals, roles, permissions and the one row-scoping layer."""

from kehu.core.auth.principal import ROLE_PERMISSIONS, SYSTEM, Principal, require
from kehu.core.auth.scoping import register_scope, scoped

__all__ = ["ROLE_PERMISSIONS", "SYSTEM", "Principal", "register_scope", "require", "scoped"]

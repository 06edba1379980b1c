"""The domains this kehu is made of: importing this module makes each one register with the
platform what it brings (permissions and role grants, row scopes, merge references, timeline
sources, jobs, message templates, personal fields, event handlers).

The front doors (:mod:`kehu.cli`, the API and the pages) import it before they serve anything; the
tests' ``conftest.py`` does too. A new domain adds one line here and its own ``registrations``
module; it edits no other domain. Order matters only where a domain builds on another's public
modules (customers first).
"""

from __future__ import annotations

from kehu.core import registrations as platform
from kehu.customers import registrations as customers
from kehu.desk import registrations as desk
from kehu.feedback import registrations as feedback
from kehu.value import registrations as value

#: Every installed domain's registrations module, in the order they register.
INSTALLED = (platform, customers, value, desk, feedback)

__all__ = ["INSTALLED"]

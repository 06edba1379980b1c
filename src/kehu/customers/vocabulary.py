"""The customers domain's closed vocabularies (what forms offer and the tables accept)."""

from __future__ import annotations

CUSTOMER_KINDS = ("person", "organisation")
CONTACT_TYPES = ("email", "phone", "wechat", "address", "other")
CHANNELS = ("email", "sms", "phone", "wechat", "post")
CONSENTS = ("granted", "withdrawn", "unknown")
#: a customer's stated wish about service messages on a channel (marketing needs ``consent``)
CONTACT_PREFERENCES = ("preferred", "allowed", "refused")

__all__ = ["CHANNELS", "CONSENTS", "CONTACT_PREFERENCES", "CONTACT_TYPES", "CUSTOMER_KINDS"]

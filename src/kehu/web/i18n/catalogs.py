"""The catalogs' tool under its old name: ``python -m kehu.web.i18n.catalogs`` runs
:mod:`kehu.core.i18n.catalogs` (the pages share their catalogs with the e-mails and texts)."""

from __future__ import annotations

import sys

from kehu.core.i18n.catalogs import (
    POT_PATH,
    catalog_problems,
    extract_messages,
    main,
    update_catalogs,
)

__all__ = ["POT_PATH", "catalog_problems", "extract_messages", "main", "update_catalogs"]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

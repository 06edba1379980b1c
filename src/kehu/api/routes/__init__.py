"""One module per area; each exposes ``router`` and is listed in ``kehu.api.routers.ROUTERS``."""

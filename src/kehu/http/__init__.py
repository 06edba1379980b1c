"""What the two HTTP front doors (the API, :mod:`kehu.api`, and the pages, :mod:`kehu.web`) share:
who is calling (:mod:`~kehu.http.deps`), the one error-to-status map (:mod:`~kehu.http.errors`,
JSON for API clients, HTML error pages for browsers through the hook the pages install), the
client address behind a proxy, the middlewares (body limits, idempotency keys, security headers)
and file downloads. Neither front door imports the other; :mod:`kehu.app` puts them together."""

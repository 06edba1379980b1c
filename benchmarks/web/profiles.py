"""Summarise py-spy's raw (collapsed) profiles of the server: where the request threads spent
their samples.

    python benchmarks/web/profiles.py benchmarks/web/.data/profiles/*.txt [--top 25]

A raw profile has one line per distinct stack, ``frame;frame;...;frame COUNT``, outermost first
(py-spy records active threads only, so idle waits are not in it). For each file this prints the
share of samples under each frame (inclusive, counted once per stack), for kehu's own functions
and for the libraries' entry points that matter to a page (SQL execution, ORM loading, Jinja
rendering, pydantic), and the frames with the most samples of their own (self).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<name>.+?) \((?P<file>[^:()]+)(?::\d+)?\)$")
#: library frames worth naming even though they are not kehu's
LIBRARIES = (
    ("sqlalchemy/engine/default.py", "do_execute", "SQL: cursor.execute (SQLite)"),
    ("sqlalchemy/orm/loading.py", "instances", "ORM: building objects from rows"),
    ("sqlalchemy/sql/compiler.py", "__init__", "SQL: compiling statements"),
    ("jinja2/environment.py", "render", "Jinja: render"),
    ("jinja2/environment.py", "get_template", "Jinja: get_template"),
    ("pydantic/main.py", "model_validate", "pydantic: model_validate"),
    ("fastapi/routing.py", "serialize_response", "FastAPI: serialize_response"),
    ("starlette/middleware/base.py", "call_next", "Starlette: BaseHTTPMiddleware"),
)


def frames(line: str) -> tuple[list[tuple[str, str]], int]:
    stack, _, count = line.rstrip().rpartition(" ")
    parsed = []
    for frame in stack.split(";"):
        match = _FRAME.match(frame.strip())
        if match:
            parsed.append((match["name"], match["file"]))
        else:
            parsed.append((frame.strip(), ""))
    return parsed, int(count)


def summarise(path: Path, top: int) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        stack, count = frames(line)
        total += count
        seen: set[str] = set()
        for name, file in stack:
            key = None
            if file.startswith("kehu/"):
                key = f"{file}: {name}"
            else:
                for suffix, function, label in LIBRARIES:
                    if file.endswith(suffix) and name.split(".")[-1] == function:
                        key = label
            if key and key not in seen:
                seen.add(key)
                inclusive[key] += count
        name, file = stack[-1]
        own[f"{file}: {name}"] += count
    lines = [f"## {path.stem.replace('_', ' ')}: {total} samples", "", "inclusive:"]
    lines += [f"  {100 * n / total:5.1f}%  {key}" for key, n in inclusive.most_common(top)]
    lines += ["", "self:"]
    lines += [f"  {100 * n / total:5.1f}%  {key}" for key, n in own.most_common(top // 2)]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profiles", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    for path in args.profiles:
        print(summarise(path, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())

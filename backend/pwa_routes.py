"""The PWA's own routes: the service worker (with its precache list and version) and deep links.

The service worker's cache name must change whenever any precached file changes, or tablets keep
an old app forever; a generated manifest file would go stale the moment someone edits a view and
forgets to regenerate it. So ``/sw.js`` is served by this route: ``pwa/sw.js`` with one line put
in front of it, ``self.__PRECACHE = {version, urls}``, computed from the files on disk (every
file under the PWA folder except ``sw.js`` itself and documentation). The version is a hash of
every file's path and content, so any change gives the browser a byte-different ``sw.js``, which
is what makes it install the new worker. The listing is re-hashed only when a file's size or
modification time changed.

``/s/{token}`` is the deep link printed on an institution's QR poster: it answers the app's
``index.html`` (the app reads the token from the address), with no login needed.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from backend.settings import Settings

# Not part of the app shell: the worker itself (always fetched fresh by the browser) and notes.
_EXCLUDED_NAMES = {"sw.js"}
_EXCLUDED_SUFFIXES = {".md", ".txt", ".map"}
# The bureau's desk is online-only and loaded only when a desk user signs in: neither its views,
# its styles nor its chart library belong in the inspector's offline shell (kept ≤ 300 KB gzip).
# The service worker caches them apart, network first (see pwa/sw.js).
DESK_PREFIXES = ("js/views/desk/", "css/desk.css", "vendor/desk/")
NO_CACHE = {"Cache-Control": "no-cache"}


@dataclass(frozen=True)
class Precache:
    """What the service worker precaches: a content version and the URLs of the shell."""

    version: str
    urls: tuple[str, ...]
    files: tuple[Path, ...]


_lock = threading.Lock()
_cached: dict[Path, tuple[tuple, Precache]] = {}


def _shell_files(pwa_dir: Path) -> list[Path]:
    files = []
    for path in sorted(pwa_dir.rglob("*")):
        if not path.is_file() or path.name in _EXCLUDED_NAMES:
            continue
        relative = path.relative_to(pwa_dir)
        if relative.as_posix().startswith(DESK_PREFIXES):
            continue
        if path.suffix.lower() in _EXCLUDED_SUFFIXES or any(
            part.startswith(".") for part in relative.parts
        ):
            continue
        files.append(path)
    return files


def precache(pwa_dir: Path) -> Precache:
    """The precache list and version of the app in ``pwa_dir`` (includes ``sw.js`` in the hash)."""
    files = _shell_files(pwa_dir)
    worker = pwa_dir / "sw.js"
    hashed = [*files, worker] if worker.exists() else files
    stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in hashed)
    with _lock:
        hit = _cached.get(pwa_dir)
        if hit and hit[0] == stamp:
            return hit[1]
    digest = hashlib.sha256()
    for path in hashed:
        digest.update(path.relative_to(pwa_dir).as_posix().encode())
        digest.update(b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    urls = tuple("/" + p.relative_to(pwa_dir).as_posix() for p in files)
    result = Precache(version=digest.hexdigest()[:16], urls=urls, files=tuple(files))
    with _lock:
        _cached[pwa_dir] = (stamp, result)
    return result


@get("/sw.js", include_in_schema=False, opt={"exclude_from_auth": True}, sync_to_thread=True)
def service_worker(settings: NamedDependency[Settings]) -> Response[bytes]:
    """The service worker with its precache list; ``no-cache`` so updates are seen at once."""
    worker = settings.pwa_dir / "sw.js"
    if not worker.exists():
        raise NotFoundException("sw.js not found")
    shell = precache(settings.pwa_dir)
    header = (
        "self.__PRECACHE = "
        + json.dumps({"version": shell.version, "urls": list(shell.urls)}, ensure_ascii=False)
        + ";\n"
    )
    return Response(
        header.encode() + worker.read_bytes(),
        media_type="text/javascript",
        headers={**NO_CACHE, "Service-Worker-Allowed": "/"},
    )


@get(
    "/s/{token:str}", include_in_schema=False, opt={"exclude_from_auth": True}, sync_to_thread=True
)
def poster_link(token: FromPath[str], settings: NamedDependency[Settings]) -> Response[bytes]:
    """A scanned QR poster (``/s/{token}``) opens the app; the app reads the token itself."""
    del token  # the app validates it against its offline bundle
    return Response(
        (settings.pwa_dir / "index.html").read_bytes(),
        media_type="text/html",
        headers=NO_CACHE,
    )


PWA_ROUTES = [service_worker, poster_link]

"""Fetch plotly.js-basic at install time, for the dashboards' smaller chart bundle.

The dashboards draw only scatter and bar traces, which plotly's 1.2 MB "basic" build of plotly.js
covers; plotly's Python package ships only the full 5 MB build, whose evaluation in the browser is
most of a dashboard's first render. The basic build is a third-party file, so it is never committed:
``make``'s install steps run ``python -m analytics.frontend fetch``, which downloads the pinned npm
tarball once, checks it against the pinned integrity hash and puts the bundle and its licence in
:func:`analytics.config.frontend_dir` (inside the Python environment). Nothing is fetched at run time;
without the file (offline install) the dashboards use plotly's full bundle as before.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import os
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from analytics import config

__all__ = ["PLOTLY_BASIC", "IntegrityError", "Pin", "basic_bundle_path", "fetch", "integrity_of", "main"]


@dataclass(frozen=True)
class Pin:
    """One pinned npm tarball: name, version, ``sha512-...`` integrity, and the files taken from it
    (member in the tarball -> file name)."""

    name: str
    version: str
    integrity: str
    files: dict[str, str]

    @property
    def url(self) -> str:
        """The tarball's address in the npm registry."""
        return f"https://registry.npmjs.org/{self.name}/-/{self.name}-{self.version}.tgz"

    @property
    def folder(self) -> str:
        """The subfolder of the front-end folder holding this version's files."""
        return f"{self.name}-{self.version}"


#: plotly.js's basic build (scatter, bar and pie traces), the version plotly 7.1 ships in full.
PLOTLY_BASIC = Pin(
    "plotly.js-basic-dist-min", "4.1.1",
    "sha512-1oNF8PeQx2hv/y7tqEVWKD3JGwn/MGEMQ8mL9HUwsaqG9FGy/OU5FHUHvzqbqxN4mnwZGI9abTiE775C4kkjMQ==",
    # the bundle comes last: its presence is what tells the server the fetch is complete
    {"package/LICENSE": "LICENSE", "package/plotly-basic.min.js": "plotly-basic.min.js"},
)


class IntegrityError(ValueError):
    """The downloaded tarball is not the pinned one."""


def integrity_of(payload: bytes) -> str:
    """The npm/SRI integrity string (``sha512-`` + base64 digest) of ``payload``.

    >>> integrity_of(b"")[:23]
    'sha512-z4PhNX7vuL3xVChQ'
    """
    return "sha512-" + base64.b64encode(hashlib.sha512(payload).digest()).decode("ascii")


def basic_bundle_path(root: str | os.PathLike[str] | None = None) -> Path:
    """Where the fetched plotly.js-basic bundle is (whether or not it has been fetched).

    >>> basic_bundle_path("/env/share/policy-pulse").as_posix()
    '/env/share/policy-pulse/plotly.js-basic-dist-min-4.1.1/plotly-basic.min.js'
    """
    base = Path(root) if root is not None else config.frontend_dir()
    return base / PLOTLY_BASIC.folder / PLOTLY_BASIC.files["package/plotly-basic.min.js"]


def _write_atomically(path: Path, payload: bytes) -> None:
    # a reader (the server starting) sees the old file or the whole new one, never a part
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide it from a server run by another user
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _members(payload: bytes, pin: Pin) -> dict[str, bytes]:
    """The pinned files' bytes, read by name from the tarball (nothing else in it is looked at)."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as archive:
        for member in pin.files:
            try:
                info = archive.getmember(member)
            except KeyError:
                raise IntegrityError(f"{pin.url} has no {member}; the pin names files the tarball lacks.") from None
            handle = archive.extractfile(info) if info.isfile() else None
            if handle is None:
                raise IntegrityError(f"{member} in {pin.url} is not a regular file.")
            out[member] = handle.read()
    return out


def fetch(
    root: str | os.PathLike[str] | None = None,
    *,
    pin: Pin = PLOTLY_BASIC,
    opener=None,
    timeout: float = 60.0,
) -> Path:
    """Download ``pin``'s tarball, check its integrity and install its files under ``root``.

    Parameters
    ----------
    root : path, optional
        The front-end folder (default :func:`analytics.config.frontend_dir`); the files go to its
        ``<name>-<version>`` subfolder.
    pin : Pin
        What to fetch (default plotly.js-basic, :data:`PLOTLY_BASIC`).
    opener : callable, optional
        A stand-in for ``urllib.request.urlopen`` (the default), with its signature.
    timeout : float
        Seconds before the download is given up.

    Returns
    -------
    Path
        The folder holding the files. Already present (a previous install) means nothing is downloaded.

    Raises
    ------
    IntegrityError
        The tarball's hash is not the pinned one (or it lacks a pinned file); nothing is written.
    urllib.error.URLError, OSError
        The download failed (offline, registry unreachable).
    """
    folder = (Path(root) if root is not None else config.frontend_dir()) / pin.folder
    targets = {member: folder / name for member, name in pin.files.items()}
    if all(path.is_file() for path in targets.values()):
        return folder
    with (opener or urllib.request.urlopen)(pin.url, timeout=timeout) as response:
        payload = response.read()
    found = integrity_of(payload)
    if found != pin.integrity:
        raise IntegrityError(f"The download of {pin.url} does not match its pinned integrity: expected "
                             f"{pin.integrity}, got {found}. Nothing was installed; check the network (a proxy "
                             "answering in the registry's place?) and fetch again.")
    contents = _members(payload, pin)
    folder.mkdir(parents=True, exist_ok=True)
    for member, path in targets.items():
        _write_atomically(path, contents[member])
    return folder


def main(argv: list[str] | None = None) -> int:
    """``python -m analytics.frontend fetch``: the install step; a failed download only warns."""
    parser = argparse.ArgumentParser(prog="python -m analytics.frontend", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["fetch"])
    parser.add_argument("--root", help="front-end folder (default: <python environment>/share/policy-pulse)")
    args = parser.parse_args(argv)
    try:
        folder = fetch(args.root)
    except IntegrityError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # urllib's URLError is one
        reason = getattr(error, "reason", error)
        print(f"warning: could not download {PLOTLY_BASIC.url} ({reason}); the dashboards will use plotly's "
              "full (slower) chart bundle. Run `python -m analytics.frontend fetch` when online.", file=sys.stderr)
        return 0
    print(f"plotly.js-basic {PLOTLY_BASIC.version} is in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

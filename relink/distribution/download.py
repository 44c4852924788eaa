"""HTTP downloads with resume, retries and sha256 verification, using only `urllib`.

This module owns talking to a web server: reading small files (`fetch_bytes`), and downloading a large one
(`download_file`) into `<dest>.partial`, resuming an interrupted transfer with an HTTP `Range` request,
retrying transient failures (connection cut, 5xx), verifying the sha256 and only then renaming the file into
place. Every failure becomes one `RelinkError` line with `ExitCode.NETWORK`; a host that cannot be reached at
all says so and names the alternatives. Locking and cache layout belong to the caller (`relink.distribution.fetch`).
"""

from __future__ import annotations

import http.client
import os
import re
import ssl
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from relink import __version__
from relink.errors import ExitCode, RelinkError
from relink.support import ByteProgress, human_bytes, sha256_file

__all__ = ["RETRY_DELAYS", "download_file", "fetch_bytes"]

RETRY_DELAYS = (0.25, 1.0)  # seconds before the 2nd and 3rd attempt
_TIMEOUT = 30
_CHUNK = 1 << 16
_SMALL_LIMIT = 16 << 20
_OFFLINE_HINT = ("offline or blocked? Use --mirror URL (or RELINK_PBS_MIRROR) to fetch from a server you can reach, "
                 "or build a distribution locally with 'relink dist build'")
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_T = TypeVar("_T")


class _Transient(Exception):
    """A failure worth retrying; `error` is what the user sees if no attempt is left."""

    def __init__(self, error: RelinkError) -> None:
        super().__init__(error.message)
        self.error = error


def _request(url: str, offset: int = 0) -> urllib.request.Request:
    headers = {"User-Agent": f"relink/{__version__}", "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    return urllib.request.Request(url, headers=headers)


def _open(url: str, offset: int = 0) -> http.client.HTTPResponse:
    """`urlopen`, with a server error made `_Transient` and an unreachable host a final RelinkError.
    An `HTTPError` other than a 5xx/408/429 is raised as is, for the caller to word."""
    try:
        return urllib.request.urlopen(_request(url, offset), timeout=_TIMEOUT)
    except urllib.error.HTTPError as error:
        if error.code >= 500 or error.code in (408, 429):
            error.close()
            raise _Transient(RelinkError(
                f"server error (HTTP {error.code} {error.reason}) for {url}: try again later, or use --mirror URL",
                ExitCode.NETWORK,
            )) from None
        raise
    except urllib.error.URLError as error:
        host = urlsplit(url).netloc or url
        if isinstance(error.reason, (ConnectionResetError, http.client.HTTPException)):  # reset while sending
            raise _Transient(RelinkError(f"connection to {url} failed ({error.reason})", ExitCode.NETWORK)) from None
        if isinstance(error.reason, ssl.SSLError):
            raise RelinkError(f"TLS failure with {host} ({error.reason}): check the system's CA certificates and "
                              "proxy, or use --mirror URL", ExitCode.NETWORK) from None
        reason = getattr(error.reason, "strerror", None) or str(error.reason)
        raise RelinkError(f"cannot reach {host} ({reason}): {_OFFLINE_HINT}", ExitCode.NETWORK) from None
    except (OSError, http.client.HTTPException) as error:  # e.g. closed before the answer (RemoteDisconnected)
        raise _Transient(RelinkError(f"connection to {url} failed ({error})", ExitCode.NETWORK)) from None


def _with_retries(action: Callable[[], _T], delays: tuple[float, ...], quiet: bool, what: str) -> _T:
    for attempt in range(len(delays) + 1):
        try:
            return action()
        except _Transient as failure:
            if attempt == len(delays):
                raise failure.error from None
            if not quiet:
                print(f"relink: {failure.error.message}; retrying {what} (attempt {attempt + 2} of "
                      f"{len(delays) + 1})", file=sys.stderr, flush=True)
            time.sleep(delays[attempt])
    raise AssertionError("unreachable")


def fetch_bytes(url: str, *, missing_ok: bool = False, quiet: bool = True,
                retry_delays: tuple[float, ...] = RETRY_DELAYS) -> bytes | None:
    """The body of a small file at `url` (at most 16 MiB); None for a 404 when `missing_ok`."""

    def attempt() -> bytes | None:
        try:
            response = _open(url)
        except urllib.error.HTTPError as error:
            error.close()
            if error.code == 404 and missing_ok:
                return None
            raise RelinkError(f"cannot download {url} (HTTP {error.code} {error.reason})",
                              ExitCode.NETWORK) from None
        with response:
            try:
                data = response.read(_SMALL_LIMIT + 1)
            except (OSError, http.client.HTTPException) as error:
                raise _Transient(RelinkError(f"connection lost while reading {url} ({error})",
                                             ExitCode.NETWORK)) from None
        if len(data) > _SMALL_LIMIT:
            raise RelinkError(f"{url} is larger than {human_bytes(_SMALL_LIMIT)}: not a metadata file",
                              ExitCode.NETWORK)
        return data

    return _with_retries(attempt, retry_delays, quiet, url)


def _transfer(url: str, partial: Path, label: str, quiet: bool) -> bool:
    """Continue (or start) `partial` from `url`; True when it kept bytes from an earlier transfer."""
    offset = partial.stat().st_size if partial.exists() else 0
    try:
        response = _open(url, offset)
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 416 and offset:  # the partial file is not a prefix of this asset: start over
            partial.unlink()
            raise _Transient(RelinkError(f"{url}: the server refused to resume (HTTP 416)",
                                         ExitCode.NETWORK)) from None
        if error.code == 404:
            raise RelinkError(f"not found (HTTP 404): {url}", ExitCode.NETWORK) from None
        raise RelinkError(f"cannot download {url} (HTTP {error.code} {error.reason})", ExitCode.NETWORK) from None
    with response:
        resumed = offset > 0 and response.status == 206
        if resumed:
            match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))
            if match is None or int(match[1]) != offset:
                partial.unlink()
                raise _Transient(RelinkError(f"{url}: the server answered the resume request with the wrong range",
                                             ExitCode.NETWORK))
        else:
            offset = 0
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length and length.isdigit() else None
        progress = ByteProgress(label, total, offset, quiet=quiet)
        with open(partial, "ab" if resumed else "wb") as out:
            while True:
                try:
                    chunk = response.read(_CHUNK)
                except (OSError, http.client.HTTPException) as error:
                    progress.finish(ok=False)
                    raise _Transient(RelinkError(
                        f"connection lost after {human_bytes(progress.done)} of {url} ({error})", ExitCode.NETWORK
                    )) from None
                if not chunk:
                    break
                out.write(chunk)
                progress.advance(len(chunk))
        if total is not None and progress.done != total:
            progress.finish(ok=False)
            raise _Transient(RelinkError(
                f"connection lost after {human_bytes(progress.done)} of {human_bytes(total)} of {url}",
                ExitCode.NETWORK,
            ))
        progress.finish(ok=True)
    return resumed


def download_file(url: str, dest: Path, sha256: str | None, *, label: str, quiet: bool = False,
                  retry_delays: tuple[float, ...] = RETRY_DELAYS) -> str:
    """Download `url` to `dest` through `<dest>.partial` and return its sha256 (hex).

    A `.partial` left by an earlier interrupted run is resumed with a Range request. When `sha256` is given
    the file must match it: a mismatch deletes the partial file (after one fresh retry if the file was
    resumed, since a stale partial file may be at fault) and raises. The caller must hold `dest`'s lock.
    """
    partial = dest.with_name(dest.name + ".partial")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fresh_retry_done = False
    while True:
        resumed = _with_retries(lambda: _transfer(url, partial, label, quiet), retry_delays, quiet, label)
        digest = sha256_file(partial)
        if sha256 is None or digest == sha256:
            os.replace(partial, dest)
            return digest
        partial.unlink()
        if resumed and not fresh_retry_done:
            fresh_retry_done = True
            continue
        raise RelinkError(
            f"checksum mismatch for {url}: expected sha256 {sha256}, got {digest}; the download was deleted "
            "(a damaged transfer or a tampered file: try again, or another --mirror)", ExitCode.NETWORK,
        )

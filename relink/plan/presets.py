"""The `--extensions` vocabulary every planning command shares: the presets, the default, and their help text.

Kept apart from `selection` (which applies them) so that a command's parser gets them without importing
the planning code.
"""

from __future__ import annotations

__all__ = ["PRESETS", "DEFAULT_SPEC", "SELECTION_HELP"]

PRESETS = ("minimal", "default", "all", "none")
DEFAULT_SPEC = "default"

SELECTION_HELP = """extension selection (--extensions PRESET[,+NAME[:VARIANT]][,-NAME]...):
  Extensions that are in the core (marshal, builtins, sys, ...) or required (_io, posix, ...) are
  always linked and cannot be removed. On top of them:
  none      nothing else
  minimal   what the interpreter imports to start (CPython's Modules/Setup.bootstrap: posix, _io,
            _codecs, _sre, _functools, time, ...)
  default   (the default) every extension that links with nothing beyond static libraries shipped in
            the distribution and the OS baseline (libc, libm, libdl, libpthread, libutil, librt; macOS
            frameworks and the libz, libbz2, libedit, ncurses macOS ships; Windows system libraries);
            no test modules (_test*, *_test, xx*)
  all       every extension that has objects to link, test modules included
  +NAME adds an extension (NAME:VARIANT picks a variant), -NAME removes one; a bare NAME is +NAME.
filters (applied to the preset; an explicit +NAME they forbid is an error):
  --no-copyleft   leave out every extension with ANY copyleft license (GPL, LGPL, AGPL, MPL, EPL,
                  EUPL, CDDL, OSL, Sleepycat, ...): an extension's licenses all apply (AND)
  --no-libraries  leave out every extension that links any library beyond the OS baseline above,
                  including static libraries shipped in the distribution (zlib, OpenSSL, ...)"""

"""Stdlib modules reached only at run time: codecs by name, locale, sysconfig, strptime, idna."""
import codecs
import locale
import sysconfig
from datetime import datetime

import idna

print(codecs.lookup("punycode").name, "bücher".encode("punycode"))
print(idna.encode("bücher.example"))
print(locale.getlocale(locale.LC_NUMERIC), locale.localeconv()["decimal_point"])
print(sysconfig.get_config_var("SOABI") is not None)
print(datetime.strptime("2024-02-03", "%Y-%m-%d").date())
print("x".encode("utf-16-le"), b"\xff".decode("cp850").encode("unicode_escape"))

"""zoneinfo from the tzdata package only (no system time zone files)."""
import zoneinfo
from datetime import datetime

zoneinfo.reset_tzpath(to=[])
for name in ["Europe/Paris", "America/New_York", "Asia/Tokyo"]:
    print(name, datetime(2024, 7, 1, 12, tzinfo=zoneinfo.ZoneInfo(name)).utcoffset())
print(len(zoneinfo.available_timezones()) > 400)

"""python-dateutil: parsing, recurrence rules and its bundled zoneinfo tarball."""
from datetime import datetime

from dateutil import parser, rrule, tz
from dateutil.zoneinfo import get_zonefile_instance

print(parser.parse("2024-03-05 10:20 +0100").isoformat())
print([d.date().isoformat() for d in rrule.rrule(rrule.WEEKLY, count=3, dtstart=datetime(2024, 1, 1))])
print(get_zonefile_instance().get("Europe/Berlin").utcoffset(datetime(2024, 7, 1)))
print(tz.tzoffset("X", 3600).utcoffset(None))

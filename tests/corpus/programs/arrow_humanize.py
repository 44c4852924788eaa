"""arrow and humanize: parsing, shifting, formatting, relative times."""
import datetime

import arrow
import humanize

moment = arrow.get("2024-01-02T03:04:05+00:00")
print(moment.shift(days=1, hours=2).format("YYYY-MM-DD HH:mm ZZ"))
print(moment.humanize(other=moment.shift(hours=3)))
print(humanize.naturalsize(1_234_567), humanize.intcomma(1234567), humanize.naturaldelta(datetime.timedelta(minutes=90)))

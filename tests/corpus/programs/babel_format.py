"""babel: dates, numbers and currencies from its locale data."""
from datetime import date

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

print(format_date(date(2024, 1, 2), format="long", locale="en_US"))
print(format_date(date(2024, 1, 2), locale="de_DE"))
print(format_decimal(1234567.891, locale="en_US"), format_currency(1234.5, "USD", locale="en_US"))

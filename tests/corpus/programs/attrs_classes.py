"""attrs: classes with validators and converters."""
import attrs


@attrs.define
class Point:
    x: int = attrs.field(converter=int)
    y: int = attrs.field(validator=attrs.validators.ge(0))


print(Point("3", 4), attrs.asdict(Point(1, 2)))
try:
    Point(0, -1)
except ValueError as error:
    print("invalid:", str(error).split(" ")[0])

"""pydantic with pydantic-core: validation, errors and JSON."""
from pydantic import BaseModel, Field, ValidationError


class Item(BaseModel):
    name: str
    price: float = Field(gt=0)
    tags: list[str] = []


print(Item(name="x", price="1.5", tags=["a"]).model_dump_json())
try:
    Item(name="y", price=-1)
except ValidationError as error:
    print(error.error_count(), error.errors()[0]["type"])
print(sorted(Item.model_json_schema()["properties"]))

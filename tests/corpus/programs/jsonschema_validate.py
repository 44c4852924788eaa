"""jsonschema (rpds-py, referencing, bundled metaschemas): validate documents."""
import jsonschema

schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
          "properties": {"n": {"type": "integer", "minimum": 0}}, "required": ["n"]}
validator = jsonschema.Draft202012Validator(schema)
jsonschema.Draft202012Validator.check_schema(schema)
for instance in [{"n": 1}, {"n": -1}, {}]:
    print(sorted(e.message for e in validator.iter_errors(instance)))

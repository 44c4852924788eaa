"""PyYAML with libyaml: the C loader and dumper."""
import yaml

document = {"name": "relink", "versions": [3.11, 3.12], "nested": {"a": None, "b": True}}
text = yaml.dump(document, Dumper=yaml.CSafeDumper, sort_keys=True)
print(text, end="")
print(yaml.load(text, Loader=yaml.CSafeLoader) == document, yaml.__with_libyaml__)

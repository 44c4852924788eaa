"""docutils: reStructuredText to HTML (the reader, parser and writer are loaded by name)."""
from docutils.core import publish_parts

source = """
Title
=====

Some *emphasis*, a list:

- one
- two

.. note:: A directive.
"""
parts = publish_parts(source, writer_name="html5", settings_overrides={"output_encoding": "unicode"})
print(parts["title"])
print(parts["body"])

"""Python-Markdown: extensions loaded by name."""
import markdown

text = "# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode\n```\n\n[TOC]\n"
print(markdown.markdown(text, extensions=["tables", "fenced_code", "toc"]))

"""markdown-it-py: CommonMark with a plugin preset."""
from markdown_it import MarkdownIt

md = MarkdownIt("commonmark").enable("table")
print(md.render("# Hi\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n*done*\n"))

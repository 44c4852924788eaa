"""mistune: plugins loaded by name."""
import mistune

render = mistune.create_markdown(plugins=["strikethrough", "table", "footnotes"])
print(render("~~old~~ new[^1]\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[^1]: a note\n"))

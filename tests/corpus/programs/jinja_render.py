"""Jinja2 with MarkupSafe's native speedups: an autoescaped template."""
import jinja2
import markupsafe

env = jinja2.Environment(loader=jinja2.DictLoader({"page.html": "<ul>{% for x in items %}<li>{{ x }}</li>{% endfor %}</ul>"}),
                         autoescape=True)
print(env.get_template("page.html").render(items=["a", "<b>", "c & d"]))
print(markupsafe.escape.__module__)

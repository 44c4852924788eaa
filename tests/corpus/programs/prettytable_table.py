"""prettytable: a sorted table."""
from prettytable import PrettyTable

table = PrettyTable(["city", "population"])
table.add_rows([["Paris", 2_100_000], ["Lyon", 520_000], ["Nice", 340_000]])
table.sortby = "population"
print(table)

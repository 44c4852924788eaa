"""sqlparse: reformat a query."""
import sqlparse

sql = "select a, b from t where a = 1 and b in (select c from u) order by a"
print(sqlparse.format(sql, reindent=True, keyword_case="upper"))
print([t.ttype for t in sqlparse.parse("select 1")[0].tokens][:3])

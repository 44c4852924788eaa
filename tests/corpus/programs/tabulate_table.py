"""tabulate with wcwidth (its native width module): a grid table."""
import tabulate
import wcwidth

rows = [["relink", 1.5, "ok"], ["pyinstaller", 10.25, "slow"]]
print(tabulate.tabulate(rows, headers=["tool", "seconds", "note"], tablefmt="grid"))
print(wcwidth.wcswidth("hello"), wcwidth.wcwidth("\u4e2d"))

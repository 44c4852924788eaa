"""pyfiglet: fonts read as package data."""
import pyfiglet

print(pyfiglet.figlet_format("relink", font="standard"))
print(len(pyfiglet.FigletFont.getFonts()) > 10)

"""emoji: its JSON data, read as package data."""
import emoji

print(emoji.demojize("I like \U0001F40D and \U0001F44D"))
print(emoji.is_emoji("\U0001F600"), emoji.emoji_count("a \U0001F600 b \U0001F600"))

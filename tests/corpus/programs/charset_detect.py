"""charset-normalizer (native md/cd modules): detect encodings."""
from charset_normalizer import from_bytes

for text, encoding in [("Приветствую вас, друзья мои, это длинный текст", "cp1251"),
                       ("こんにちは、世界。日本語のテキストです。", "shift_jis"), ("plain ascii text", "ascii")]:
    best = from_bytes(text.encode(encoding)).best()
    print(encoding, "->", best.encoding if best else None, str(best) == text if best else None)

"""Pillow: its native modules and the image libraries in pillow.libs."""
import io

from PIL import Image, ImageDraw, features

image = Image.new("RGB", (32, 16), "white")
ImageDraw.Draw(image).rectangle([4, 4, 12, 12], fill=(255, 0, 0))
buffer = io.BytesIO()
image.save(buffer, "PNG")
again = Image.open(io.BytesIO(buffer.getvalue()))
print(again.size, again.mode, again.getpixel((8, 8)))
jpeg = io.BytesIO()
image.save(jpeg, "JPEG")
print(Image.open(jpeg).format, features.check("webp"), features.check("freetype2"))

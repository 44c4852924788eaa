"""requests (with charset-normalizer, idna, urllib3, certifi): prepare a request, decode a body."""
import os

import certifi
import requests

request = requests.Request("GET", "https://bücher.example/search", params={"q": "relink", "n": 2}).prepare()
print(request.url)
print(sorted(request.headers))
response = requests.models.Response()
response._content = "Grüße aus Köln, naïve café".encode("latin-1")
response.encoding = None
print(response.apparent_encoding is not None, len(response.text))
# certifi.where() is a real file: inside an executable certifi extracts it (importlib.resources.as_file).
with open(certifi.where()) as bundle:
    print(bundle.read() == certifi.contents(), os.path.getsize(certifi.where()) > 100_000)
print(requests.__version__)

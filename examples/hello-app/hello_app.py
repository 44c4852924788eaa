"""The benchmark's hello-world app: a few stdlib modules with C accelerators, and a local package."""
import hashlib
import json
import math
import zlib

import greeting

payload = json.dumps({"pi": round(math.pi, 5), "sha": hashlib.sha256(b"relink").hexdigest()[:12]})
print(greeting.hello(), len(zlib.compress(payload.encode())), payload)

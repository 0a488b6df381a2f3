#!/usr/bin/env python3
"""Decodes every image of a QR benchmark corpus with zxing-cpp, in process, and prints JSON.

Usage: zxing_decode.py CORPUS_DIR
Output: {"version": "...", "images": [{"file": ..., "texts": [...], "seconds": ..., "error": ...}]}
The time of each image covers reading the file and decoding it (as twofold's figure does), not
interpreter start-up; it is the thread's CPU time, so other work on the machine does not show. Needs the PyPI packages zxing-cpp and pillow.
"""

import importlib.metadata
import json
import sys
import time
from pathlib import Path

import zxingcpp
from PIL import Image


def decode(path: Path) -> dict:
    start = time.thread_time()
    try:
        with Image.open(path) as image:
            image.load()
            results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        texts = [r.text for r in results if r.valid]
        error = None
    except Exception as e:  # a decoder failure counts as nothing found, and is reported
        texts, error = [], f"{type(e).__name__}: {e}"
    return {"file": path.name, "texts": texts, "seconds": time.thread_time() - start, "error": error}


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    corpus = Path(sys.argv[1])
    manifest = json.loads((corpus / "manifest.json").read_text())
    files = [corpus / entry["file"] for entry in manifest["images"]]
    # Warm up: the first call pays for lazy initialisation, which no image should be charged.
    if files:
        decode(files[0])
    images = [decode(path) for path in files]
    json.dump({"version": importlib.metadata.version("zxing-cpp"), "images": images}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Copy the front-end files Pishkhan serves from `node_modules/` into `src/pishkhan/static/vendor/`.

Run after `npm ci --no-audit --no-fund`. Only the files a page actually loads are copied, so
`collectstatic` and the wheel stay small and no page depends on a CDN.

Exit status: 0 when every file was copied, 1 with a message naming the missing file (usually:
`npm ci` has not been run, or `package.json` was bumped to a version with a different layout).
"""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "src" / "pishkhan" / "static" / "vendor"

# (source inside node_modules, destination inside static/vendor).
# The variable font is one 110 KB request for every weight the stylesheet uses; the static
# Regular + Bold pair would weigh about the same but cost two requests. It is renamed because
# "[wght]" in a URL needs escaping in CSS and is easy to get wrong in links and tests.
FILES = [
    ("vazirmatn/fonts/webfonts/Vazirmatn[wght].woff2", "vazirmatn/Vazirmatn-Variable.woff2"),
    ("vazirmatn/OFL.txt", "vazirmatn/OFL.txt"),
    # Leaflet (about 40 KB over the wire) for the staff map and the map-point field; loaded only
    # by the pages that draw a map.
    ("leaflet/dist/leaflet.js", "leaflet/leaflet.js"),
    ("leaflet/dist/leaflet.css", "leaflet/leaflet.css"),
    ("leaflet/dist/images/marker-icon.png", "leaflet/images/marker-icon.png"),
    ("leaflet/dist/images/marker-icon-2x.png", "leaflet/images/marker-icon-2x.png"),
    ("leaflet/dist/images/marker-shadow.png", "leaflet/images/marker-shadow.png"),
    ("leaflet/dist/images/layers.png", "leaflet/images/layers.png"),
    ("leaflet/dist/images/layers-2x.png", "leaflet/images/layers-2x.png"),
    ("leaflet/LICENSE", "leaflet/LICENSE"),
]


def copy_assets(*, node_modules: Path = NODE_MODULES, vendor: Path = VENDOR) -> list[Path]:
    """Copy every entry of FILES; return the destination paths.

    Raises FileNotFoundError naming the first missing source file. Files already in place are
    overwritten, so re-running after a version bump is safe.
    """
    copied = []
    for source_name, destination_name in FILES:
        source = node_modules / source_name
        if not source.is_file():
            raise FileNotFoundError(f"{source} is missing: run `npm ci --no-audit --no-fund` first.")
        destination = vendor / destination_name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        copied.append(destination)
    return copied


def main() -> int:
    try:
        copied = copy_assets()
    except FileNotFoundError as error:
        print(f"assets: {error}", file=sys.stderr)
        return 1
    for path in copied:
        print(f"assets: {path.relative_to(ROOT)} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Render the LINE rich menu image once: `python tools/render_richmenu.py` (writes bot/channels/line/richmenu.png).

Needs Pillow (a dev dependency) and Debian's Noto Sans CJK font (`apt-get install fonts-noto-cjk`); neither
is needed at run time, where `taikai-bot line richmenu` uploads the committed PNG. The words come from the
lexicon (flows/lexicon.yaml `texts`: nav_restart, nav_status, nav_help) and are recorded in the PNG's
iTXt chunk, so a test notices when the lexicon changes and the image was not rendered again.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.channels.line.richmenu import (  # noqa: E402
    HEIGHT,
    IMAGE,
    PANEL_COLOURS,
    WIDTH,
    WORDS_KEY,
    menu_words,
    panels,
)
from bot.core.library.load import load_library  # noqa: E402

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")  # Debian: fonts-noto-cjk
FONT_INDEX = 0  # the Japanese face of the collection (JP is the first one in Noto Sans CJK)
WHITE = (255, 255, 255)
DIVIDER = (224, 224, 224)
FONT_SIZE = 170  # fits the widest word (4 characters) in a third of 2500 px with margins


def render(words: tuple[str, ...], out: Path) -> None:
    image = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), FONT_SIZE, index=FONT_INDEX)
    for (x, width), colour, word in zip(panels(), PANEL_COLOURS, words, strict=True):
        draw.rectangle((x, 0, x + width - 1, HEIGHT - 1), fill=colour)
        left, top, right, bottom = draw.textbbox((0, 0), word, font=font)
        if right - left > width * 0.9:
            raise SystemExit(f"「{word}」 is too wide for its panel at {FONT_SIZE} px: shorten it or lower FONT_SIZE")
        draw.text((x + (width - (right - left)) / 2 - left, (HEIGHT - (bottom - top)) / 2 - top), word, WHITE, font)
    for x, _ in panels()[1:]:
        draw.rectangle((x - 3, 0, x + 2, HEIGHT - 1), fill=DIVIDER)
    info = PngInfo()
    info.add_itxt(WORDS_KEY, "/".join(words))
    image.save(out, "PNG", optimize=True, pnginfo=info)


def main() -> int:
    words = menu_words(load_library(ROOT / "flows"))
    render(words, IMAGE)
    print(f"wrote {IMAGE.relative_to(ROOT)} ({IMAGE.stat().st_size} bytes): {' / '.join(words)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

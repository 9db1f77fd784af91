"""What Spanish costs in SMS segments: every customer text and reply, folded to GSM-7 as sent (á í ó ú → a i o u;
é ñ ü ¿ ¡ are GSM-7) beside the same text with its accents kept, which makes it UCS-2 (67 characters a part, not
153). Run: .venv/bin/python bench/spanish_segments.py — the numbers are in docs/benchmarks.md.

Not a test: the tests hold every text to 3 segments as sent; this shows why the accents are folded. The accented
rendering swaps fitting's GSM-7 step for one that keeps Spanish letters, so the squeeze is measured as UCS-2 would
see it.
"""

import logging
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import gsm  # noqa: E402
from core.wording import fitting  # noqa: E402
from tests.test_messages import LINK, LONG_LINK, TEMPLATES, kitchen_job, worst_job  # noqa: E402
from tests.test_replies import REPLIES  # noqa: E402
from tests.test_replies import kitchen_job as reply_kitchen_job  # noqa: E402
from tests.test_replies import worst_job as reply_worst_job  # noqa: E402

SPANISH_LETTERS = set("áéíóúÁÉÍÓÚñÑüÜ¿¡")


def keep_accents(text: str) -> str:
    return "".join(c if c in SPANISH_LETTERS else gsm.to_gsm7(c) for c in text)


def measure() -> list[tuple[str, str, int, int, int, int]]:
    rows = []
    texts = [(name, lambda j, t=t: t(j, LINK), lambda j, t=t: t(j, LONG_LINK), kitchen_job, worst_job)
             for name, t in TEMPLATES.items()]
    texts += [(name, r, r, reply_kitchen_job, reply_worst_job) for name, r in REPLIES.items()]
    for name, ordinary_text, worst_text, ordinary_job, worst in texts:
        sizes = []
        for render, job in ((ordinary_text, ordinary_job()), (worst_text, worst())):
            job = replace(job, language="es")
            folded = render(job)
            fitting.to_gsm7 = keep_accents
            try:
                accented = render(job)
            finally:
                fitting.to_gsm7 = gsm.to_gsm7
            sizes.append((len(folded), gsm.segments(folded), gsm.segments(accented),
                          "..." in accented and "..." not in folded))
        rows.append((name, *sizes[0][:3], *sizes[1][:3], sizes[0][3] or sizes[1][3]))
    return rows


def main() -> None:
    logging.disable(logging.WARNING)  # fit's warning that an accented text overflows: the table says so
    rows = measure()
    print(f"{'text':28} {'ordinary: chars':>15} {'GSM-7':>6} {'UCS-2':>6} | {'worst: GSM-7':>12} {'UCS-2':>6}")
    for name, chars, folded, accented, _wchars, wfolded, waccented, cut in rows:
        flag = "  (UCS-2 cuts names an ordinary job keeps)" if cut else ""
        print(f"{name:28} {chars:>15} {folded:>6} {accented:>6} | {wfolded:>12} {waccented:>6}{flag}")
    ordinary = [r for r in rows if r[3] > r[2]]
    print(f"\n{len(rows)} texts; with accents kept, {len(ordinary)} ordinary ones cost more segments; "
          f"segments for all ordinary texts: {sum(r[2] for r in rows)} folded, {sum(r[3] for r in rows)} UCS-2")


if __name__ == "__main__":
    main()

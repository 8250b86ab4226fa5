"""Narration cost per video: eSpeak NG synthesis, the 48 kHz mix with the ducked bed, captions.

A 30 s bill video has about seven narrated scenes; each locale speaks its own seven lines.
Prints CPU and wall seconds per video (median and p95 over the runs), per line, and for the
ffmpeg mix alone.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from renderers.voice import caption_cues, mix_track, narrate, voice_by_name  # noqa: E402

RUNS = 5
MUSIC = ROOT / "scenes" / "bill-explainer" / "assets" / "music.ogg"
LINES = {
    "it-IT": [
        "Ciao Giulia, ecco la tua bolletta di novembre.",
        "L'importo è di 84,20 euro, da pagare entro il 30 novembre.",
        "Energia 52,10 euro, trasporto 18,40 euro, imposte 13,70 euro.",
        "Hai consumato il 7 per cento in meno dell'anno scorso.",
        "Un consiglio: avvia la lavatrice solo a pieno carico.",
        "Paga con un tocco dalla pagina della bolletta.",
        "Grazie, e a presto!",
    ],
    "th-TH": [
        "สวัสดีครับ คุณสมชาย นี่คือใบแจ้งหนี้ของคุณ",
        "ยอดรวม 1,250 บาท ชำระภายในวันที่ 30 พฤศจิกายน",
        "ค่าไฟฟ้า 900 บาท ค่าบริการ 350 บาท",
        "คุณใช้ไฟน้อยกว่าปีที่แล้ว",
        "เคล็ดลับ ปิดไฟเมื่อไม่ใช้งาน",
        "สแกนคิวอาร์โค้ดเพื่อชำระเงิน",
        "ขอบคุณครับ",
    ],
}


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def main() -> None:
    voice = voice_by_name("espeak")
    with tempfile.TemporaryDirectory() as tmp:
        voice.speak("warm up", "en", Path(tmp))  # loads the library once per process
        for locale, lines in LINES.items():
            walls, cpus, mix_walls, mix_cpus, line_walls = [], [], [], [], []
            for run in range(RUNS):
                work = Path(tmp) / f"{locale}-{run}"
                c0, w0 = cpu(), time.perf_counter()
                speeches = narrate(lines, locale, voice, work)
                w1, c1 = time.perf_counter(), cpu()
                starts, at = [], 0.0
                for speech in speeches:
                    starts.append(at)
                    at += max(speech.duration + 0.6, 3.0)
                mix_track(speeches, starts, at, work, music=MUSIC)
                caption_cues(speeches, starts)
                w2, c2 = time.perf_counter(), cpu()
                walls.append(w2 - w0)
                cpus.append(c2 - c0)
                mix_walls.append(w2 - w1)
                mix_cpus.append(c2 - c1)
                line_walls.append((w1 - w0) / len(lines))
            print(
                f"{locale}: {len(lines)} lines, {at:.1f} s of video; per video: "
                f"wall median {statistics.median(walls):.3f} s p95 {p95(walls):.3f} s, "
                f"CPU median {statistics.median(cpus):.3f} s p95 {p95(cpus):.3f} s; "
                f"synthesis per line {statistics.median(line_walls) * 1000:.0f} ms wall; "
                f"mix+captions wall {statistics.median(mix_walls):.3f} s "
                f"CPU {statistics.median(mix_cpus):.3f} s"
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak:.0f} MB; cores: {os.cpu_count()}")


if __name__ == "__main__":
    main()

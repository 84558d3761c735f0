"""Throughput of the send path: approved message.eml files (each with a ~50 KB PDF) through the real
ledger and SMTP code to the loopback sink, one message at a time, exactly as `outreach send` does.

    .venv/bin/python bench/bench_delivery.py 2000
    .venv/bin/python bench/bench_delivery.py 10000 --sink discard maildir

Builds a fake outbox once (bench/out/delivery-N), then for each sink kind: a fresh ledger, approve
all, and a separate `send` process against a sink in its own process (so neither shares the other's
GIL). Prints messages/s and MB/s of the send, its CPU time per message, and the peak RSS of the send
and sink processes; and, as the baseline measured in the same run against the same sink, a bare
smtplib loop sending the same files over one connection (no ledger, no approval check, no fsync),
with the ratio of the two, since the machine's speed changes from hour to hour.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pikepdf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.memory import own_peak_kb  # noqa: E402
from outreach.config import parse_config  # noqa: E402
from outreach.delivery import Ledger, SmtpSink, approve, send_campaign  # noqa: E402
from outreach.outbox import Draft, DraftFile, Manifest, read_manifest, sha256_file, write_manifest  # noqa: E402
from outreach.outbox import Attachment, build_message, message_bytes  # noqa: E402
from outreach.workspace import Workspace  # noqa: E402

CAMPAIGN = "bench"
SENDER = "phongqlt@bhxh-khanhhoa.example.vn"
SUBJECT = "Công văn số 05/BHXH-QLT V/v đôn đốc tham gia BHXH tự nguyện, BHYT hộ gia đình; sử dụng VssID"
DISTINCT_PDFS = 16


class DiscardHandler:
    async def handle_DATA(self, server, session, envelope) -> str:
        return "250 2.0.0 Ok: discarded"


def config_data(port: int) -> dict:
    return {
        "agency": {"parent_body": "BẢO HIỂM XÃ HỘI VIỆT NAM", "issuing_body": "BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA",
                   "abbreviation": "BHXH", "place": "Khánh Hòa"},
        "signer": {"authority": "KT. GIÁM ĐỐC", "title": "PHÓ GIÁM ĐỐC", "name": "Lê Hùng Chính"},
        "smtp": {"sink": {"host": "127.0.0.1", "port": port, "security": "none"}},
        "departments": {"QLT": {
            "name": "Phòng Quản lý thu", "sender": SENDER, "sender_name": "BHXH tỉnh Khánh Hòa - Phòng Quản lý thu",
            "audiences": ["employers"], "smtp": "sink",
            "schedule": {"messages_per_minute": 10_000_000, "daily_quota": 10_000_000},
        }},
    }


def pdf(index: int, size: int = 50_000) -> bytes:
    buffer = io.BytesIO()
    with pikepdf.new() as document:
        document.add_blank_page(page_size=(595, 842))
        document.attachments[f"du-lieu-{index}.bin"] = pikepdf.AttachedFileSpec(document, os.urandom(size - 1_000))
        document.save(buffer)
    return buffer.getvalue()


def build_outbox(root: Path, count: int) -> float:
    """The outbox `build` would leave, written once per size; returns seconds spent."""
    if (root / "outbox" / CAMPAIGN / "manifest.json").exists():
        return 0.0
    started = time.perf_counter()
    pdfs = [pdf(i) for i in range(DISTINCT_PDFS)]
    drafts = []
    for index in range(count):
        code = f"TA{index:06d}"
        name = f"Công ty TNHH Thủy sản Hải Vương số {index}"
        folder = root / "outbox" / CAMPAIGN / "employers" / code
        folder.mkdir(parents=True)
        message = build_message(
            sender_name="BHXH tỉnh Khánh Hòa - Phòng Quản lý thu", sender=SENDER, reply_to=SENDER,
            to=[f"dv{index}@example.vn"], cc=[], subject=SUBJECT, text=f"Kính gửi: {name}\n",
            html=f"<p>Kính gửi: {name}</p>", attachments=[Attachment(f"Công văn số 05 – {name}.pdf",
                                                                      pdfs[index % DISTINCT_PDFS])],
        )
        (folder / "message.eml").write_bytes(message_bytes(message))
        eml_sha = sha256_file(folder / "message.eml")
        drafts.append(Draft(CAMPAIGN, "employers", code, name, (f"dv{index}@example.vn",), (), "QLT",
                            "Thành phố Nha Trang", str(folder.relative_to(root)),
                            (DraftFile("message.eml", eml_sha),), eml_sha))
    write_manifest(root, Manifest(CAMPAIGN, "05/BHXH-QLT", "", tuple(drafts)))
    return time.perf_counter() - started


def serve_sink(kind: str, maildir: Path) -> None:
    """Child process: run the sink, print its port, stop on stdin EOF, print its peak RSS."""
    handler = DiscardHandler() if kind == "discard" else None
    with SmtpSink(maildir, port=0, handler=handler) as sink:
        print(sink.port, flush=True)
        sys.stdin.read()
    print(own_peak_kb(), flush=True)


def send(root: Path, port: int) -> None:
    """Child process: one `send` of the whole campaign; prints timing and peak RSS as JSON."""
    config = parse_config(config_data(port), root)
    manifest = read_manifest(root, CAMPAIGN)
    with Ledger.open(root) as ledger:
        started, cpu_started = time.perf_counter(), time.process_time()
        report = send_campaign(config, manifest, ledger)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(json.dumps({"sent": len(report.sent), "problems": len(report.skipped) + len(report.failed) +
                      len(report.retrying) + len(report.uncertain), "seconds": elapsed, "cpu_s": cpu,
                      "max_rss_kb": own_peak_kb()}))


def bare_send(root: Path, port: int) -> None:
    """Child process: the baseline, smtplib.sendmail of every message.eml over one connection."""
    import smtplib

    manifest = read_manifest(root, CAMPAIGN)
    started, cpu_started = time.perf_counter(), time.process_time()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for draft in manifest.drafts:
            smtp.sendmail(SENDER, list(draft.to), (root / draft.folder / "message.eml").read_bytes())
    print(json.dumps({"sent": len(manifest.drafts), "seconds": time.perf_counter() - started,
                      "cpu_s": time.process_time() - cpu_started}))


def with_sink(root: Path, kind: str, child: list[str]) -> tuple[dict, int]:
    """Run ``child`` (given the sink's port last) against a fresh sink of ``kind``: its JSON, sink RSS."""
    shutil.rmtree(root / "maildir", ignore_errors=True)
    me = [sys.executable, str(Path(__file__).resolve())]
    sink = subprocess.Popen([*me, "--serve-sink", kind, str(root / "maildir")], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    port = int(sink.stdout.readline())
    done = subprocess.run([*me, *child, str(port)], capture_output=True, text=True, check=True)
    sink.stdin.close()
    sink_rss_kb = int(sink.stdout.readline())
    sink.wait()
    return json.loads(done.stdout), sink_rss_kb


def run(root: Path, kind: str, count: int) -> dict:
    ledger_path = Workspace(root).ledger
    ledger_path.unlink(missing_ok=True)
    for leftover in ledger_path.parent.glob(f"{ledger_path.name}-*"):
        leftover.unlink()
    shutil.rmtree(root / "outbox" / CAMPAIGN / "approved", ignore_errors=True)
    manifest = read_manifest(root, CAMPAIGN)
    with Ledger.open(root) as ledger:
        started = time.perf_counter()
        approve(root, ledger, manifest, "bench")
        approve_s = time.perf_counter() - started
    os.sync()  # approval (which writes the approved copies) and sending are hours apart in real use

    baseline, _ = with_sink(root, kind, ["--bare-send", str(root)])
    result, sink_rss_kb = with_sink(root, kind, ["--send", str(root)])
    stored = len(list((root / "maildir" / "new").iterdir())) if kind == "maildir" else None
    megabytes = sum((root / d.folder / "message.eml").stat().st_size for d in manifest.drafts) / 1e6
    return {**result, "kind": kind, "count": count, "approve_s": approve_s, "stored": stored,
            "mb": megabytes, "sink_rss_kb": sink_rss_kb, "baseline": baseline}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-sink":
        return serve_sink(sys.argv[2], Path(sys.argv[3]))
    if len(sys.argv) > 1 and sys.argv[1] == "--send":
        return send(Path(sys.argv[2]), int(sys.argv[3]))
    if len(sys.argv) > 1 and sys.argv[1] == "--bare-send":
        return bare_send(Path(sys.argv[2]), int(sys.argv[3]))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=2000)
    parser.add_argument("--sink", nargs="+", choices=("discard", "maildir"), default=["discard", "maildir"])
    parser.add_argument("--workdir", type=Path, default=Path(__file__).resolve().parent / "out")
    args = parser.parse_args()

    root = args.workdir / f"delivery-{args.count}"
    build_s = build_outbox(root, args.count)
    if build_s:
        print(f"outbox: {args.count} messages built in {build_s:.1f} s ({args.count / build_s:.0f}/s)")
    for kind in args.sink:
        r = run(root, kind, args.count)
        print(f"{kind:8s} N={r['count']:6d}  sent={r['sent']:6d} problems={r['problems']}  "
              f"{r['sent'] / r['seconds']:7.1f} msg/s  {r['mb'] / r['seconds']:6.1f} MB/s  "
              f"({r['seconds']:.1f} s, {r['mb'] / r['count'] * 1000:.0f} KB/msg, CPU {r['cpu_s'] / r['sent'] * 1000:.2f} ms/msg)  "
              f"send RSS {r['max_rss_kb'] / 1024:.0f} MB, sink RSS {r['sink_rss_kb'] / 1024:.0f} MB, "
              f"approve {r['approve_s']:.1f} s" + (f", stored {r['stored']}" if r["stored"] is not None else ""))
        bare = r["baseline"]
        print(f"{'':8s} baseline (bare smtplib loop, same sink): {bare['sent'] / bare['seconds']:7.1f} msg/s, "
              f"CPU {bare['cpu_s'] / bare['sent'] * 1000:.2f} ms/msg; outreach/baseline: "
              f"{(r['sent'] / r['seconds']) / (bare['sent'] / bare['seconds']):.2f} of the speed, "
              f"{(r['cpu_s'] / r['sent']) / (bare['cpu_s'] / bare['sent']):.1f}x the CPU per message")


if __name__ == "__main__":
    main()

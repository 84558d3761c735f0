"""manifest: the list of drafts a build leaves, written whole or not at all, read back the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from outreach.errors import UserError
from outreach.outbox.manifest import (Draft, DraftFile, Manifest, ManifestCache, Skip, letter_pages, read_manifest,
                                      usual_pages, write_manifest)
from outreach.workspace import Workspace


def draft(code: str, pages: int = 5, audience: str = "employers", to: tuple[str, ...] = ("a@b.vn",)) -> Draft:
    return Draft(campaign="c", audience=audience, code=code, name=f"Công ty {code}", to=to, cc=(), sender="QLT",
                 district="Huyện Cam Lâm", folder=f"outbox/c/{audience}/{code}",
                 files=(DraftFile("letter.pdf", "ab" * 32, pages),), message_sha256="cd" * 32,
                 source_file="employers.xlsx", source_row=7)


def manifest(*drafts: Draft, number: str = "05/BHXH-QLT") -> Manifest:
    return Manifest("c", number, "2023-01-05T08:00:00+07:00", drafts,
                    rejected=({"row": "9", "reason": "thiếu tên"},), attachments=(DraftFile("phu-luc-1.pdf", "ef" * 32, 2),))


def test_a_manifest_reads_back_exactly_as_written(tmp_path: Path) -> None:
    written = manifest(draft("TA00001"), draft("22333", 4, "communes", to=()))
    path = write_manifest(tmp_path, written)
    assert path == Workspace(tmp_path).manifest("c")
    assert read_manifest(tmp_path, "c") == written
    assert list(path.parent.iterdir()) == [path]  # the temporary file was renamed into place


def test_an_interrupted_write_leaves_the_previous_manifest_whole(tmp_path: Path, monkeypatch) -> None:
    write_manifest(tmp_path, manifest(draft("TA00001")))

    encode = json.dumps

    def full_disk_at_the_second_draft(value, **options):
        if getattr(value, "code", "") == "TA00002":  # the first draft's line is already written
            raise OSError("disk full")
        return encode(value, **options)

    monkeypatch.setattr(json, "dumps", full_disk_at_the_second_draft)
    with pytest.raises(OSError):
        write_manifest(tmp_path, manifest(draft("TA00001"), draft("TA00002")))
    assert [d.code for d in read_manifest(tmp_path, "c").drafts] == ["TA00001"]


@pytest.mark.parametrize("damage", ["{not json", '{"campaign": "c"}', '{"campaign": "c", "document_number": "", '
                                    '"built_at": "", "drafts": [{"code": 1}]}', "\udcff"])
def test_a_damaged_manifest_is_a_user_error_naming_the_file_and_the_fix(tmp_path: Path, damage: str) -> None:
    path = Workspace(tmp_path).manifest("c")
    path.parent.mkdir(parents=True)
    path.write_bytes(damage.encode("utf-8", "surrogateescape"))
    with pytest.raises(UserError) as caught:
        read_manifest(tmp_path, "c")
    assert str(path) in caught.value.message and "outreach build c" in caught.value.message


def test_a_campaign_never_built_says_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="outreach build c"):
        read_manifest(tmp_path, "c")


def test_the_cache_reads_again_only_when_the_file_changed(tmp_path: Path) -> None:
    cache = ManifestCache()
    assert cache.get(tmp_path, "c") is None
    write_manifest(tmp_path, manifest(draft("TA00001")))
    first = cache.get(tmp_path, "c")
    assert cache.get(tmp_path, "c") is first
    write_manifest(tmp_path, manifest(draft("TA00001"), draft("TA00002")))
    assert [d.code for d in cache.get(tmp_path, "c").drafts] == ["TA00001", "TA00002"]


def test_numbering_pages_and_lookup() -> None:
    built = manifest(draft("TA00001", 5), draft("TA00002", 5), draft("TA00003", 6), draft("22333", 4, "communes"))
    assert built.numbered and not manifest(number="     /BHXH-QLT").numbered and not manifest(number="").numbered
    assert usual_pages(built.drafts) == built.usual_pages() == {"employers": 5, "communes": 4}
    assert letter_pages(built.draft("employers/TA00003")) == 6 and built.draft("22333").audience == "communes"
    with pytest.raises(UserError, match="TA09999"):
        built.draft("TA09999")
    problem = built.draft("TA00001").skipped(Skip.QUOTA, "Đã đủ hạn mức")
    assert (problem.key, problem.reason) == ("employers/TA00001", Skip.QUOTA)

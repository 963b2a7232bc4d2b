"""The editor's own library indexed in place: UCS CatIDs, BWF/iXML descriptions, keywords
(issue 14, point 5)."""

import json
import os
import struct

import pytest

from sfxstudio.core.errors import BadInputError
from sfxstudio.core.paths import RESOURCES
from sfxstudio.media.library_index import (
    build_index,
    classify_catid,
    load_index,
    read_descriptions,
    write_index,
)

# The shared sounds' folder names, as classes (the truth; the index must not read them).
SHARED_TRUTH = {"cheer_applause": "cheer", "door": "door_opening", "footsteps": "high_heels",
                "lightning_thunder": "lightning"}


def _wav_with_chunks(path, chunks):
    """A tiny 16-bit mono WAV with extra chunks (id, payload) before the audio."""
    fmt = struct.pack("<HHIIHH", 1, 1, 48000, 96000, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    for cid, payload in chunks:
        body += cid + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) % 2 else b"")
    audio = b"\0\0" * 480
    body += b"data" + struct.pack("<I", len(audio)) + audio
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def test_every_valid_catid_in_generated_ucs_names_lands_in_its_class(tmp_path):
    table = json.loads((RESOURCES / "ucs_map.json").read_text())["catids"]
    lib = tmp_path / "lib"
    lib.mkdir()
    for n, catid in enumerate(table):
        # UCS: CatID[-UserCategory]_FXName_CreatorID_SourceID; FX names that would mislead
        # keyword matching on purpose (a dog in a car file).
        user = "-Mine" if n % 3 == 0 else ""
        (lib / f"{catid}{user}_Dog Bark In Car_JD_Lib{n}.wav").write_bytes(b"\0")
    index = build_index(lib)
    got = {e.file.split("_")[0].split("-")[0]: (e.class_name, e.confidence) for e in index.entries}
    assert got == {catid: (row["class"], 1.0) for catid, row in table.items()}


def test_unknown_subcategory_of_a_known_category_and_unknown_catids():
    assert classify_catid("FIREWhsh")[:2] == ("fire", 0.9)
    assert classify_catid("ZZZFoo") is None and classify_catid("fire") is None


def test_bext_description_and_ixml_catid_are_read(tmp_path):
    bext = b"Big dog barking twice".ljust(256, b"\0") + b"\0" * 346
    a = _wav_with_chunks(tmp_path / "take_014.wav", [(b"bext", bext)])
    ixml = b"<BWFXML><USER><CATID>FIREBurn</CATID><FXNAME>Hiss</FXNAME></USER></BWFXML>"
    b = _wav_with_chunks(tmp_path / "take_015.wav", [(b"iXML", ixml)])
    assert read_descriptions(a)[0] == "Big dog barking twice"
    index = build_index(tmp_path)
    rows = {e.file: e for e in index.entries}
    assert rows[a.name].class_name == "dog_barking" and "BWF description" in rows[a.name].why
    assert rows[b.name].class_name == "fire" and rows[b.name].confidence == 1.0
    assert "iXML" in rows[b.name].why


def test_table_lists_unassigned_and_reimport_is_incremental(tmp_path, monkeypatch):
    lib = tmp_path / "lib"
    (lib / "Rain Forest").mkdir(parents=True)
    (lib / "Rain Forest" / "take1.wav").write_bytes(b"\0")  # no rule places it
    (lib / "VEHCar_Pass By_JD_X.wav").write_bytes(b"\0")
    (lib / "notes.txt").write_text("not a sound")
    out = tmp_path / "index.json"
    first = build_index(lib)
    json_path, csv_path = write_index(first, out)
    assert [e.file for e in first.unassigned()] == ["Rain Forest/take1.wav"]
    assert json.loads(json_path.read_text())["unassigned"] == ["Rain Forest/take1.wav"]
    table = csv_path.read_text().splitlines()
    assert table[0] == "file,class,confidence,why" and len(table) == 3
    assert "VEHCar_Pass By_JD_X.wav,cars,1.00,UCS CatID VEHCar" in csv_path.read_text()

    # Re-import: an unchanged file is not read again; a changed one is.
    import sfxstudio.media.library_index as li

    seen = []
    real = li.classify_file
    monkeypatch.setattr(li, "classify_file", lambda p, rel, f=True: (seen.append(rel), real(p, rel, f))[1])
    changed = lib / "Rain Forest" / "take1.wav"
    changed.write_bytes(b"\0\0")
    os.utime(changed, ns=(1, 2))
    again = build_index(lib, previous=out)
    assert seen == ["Rain Forest/take1.wav"] and again.reused == 1
    assert load_index(out).entries == first.entries


def test_a_bad_index_file_is_one_line(tmp_path):
    bad = tmp_path / "i.json"
    bad.write_text("{")
    with pytest.raises(BadInputError, match=r"i\.json: cannot be read"):
        load_index(bad)


def test_shared_sounds_by_name_without_their_folders(shared_data):
    index = build_index(shared_data / "sounds", use_folders=False)
    right = 0
    for e in index.entries:
        truth = SHARED_TRUTH.get(e.file.split("/")[0], e.file.split("/")[0])
        right += e.class_name == truth or (truth == "otherwise" and e.class_name is None)
    # 42 of 43 measured (audiomate_wavex... reads as 'wave'); a drop means a keyword regressed.
    assert len(index.entries) == 43 and right >= 42


def test_cli_library_import_writes_the_index_and_table(tmp_path, capsys):
    from sfxstudio.cli import main

    lib = tmp_path / "my sounds"
    (lib / "sub").mkdir(parents=True)
    (lib / "VEHCar_Pass By_JD_1.wav").write_bytes(b"\0")
    (lib / "sub" / "mystery.wav").write_bytes(b"\0")
    assert main(["library", "import", str(lib), "--out", str(tmp_path / "idx.json")]) == 0
    out, err = capsys.readouterr()
    assert out.split() == ["cars", "1"] and "unassigned: sub/mystery.wav" in err
    assert (tmp_path / "idx.csv").is_file() and not (lib / "sfxstudio-index.json").exists()
    # indexed in place: nothing copied into or written to the folder
    assert sorted(p.name for p in lib.rglob("*")) == ["VEHCar_Pass By_JD_1.wav", "mystery.wav", "sub"]
    assert main(["library", "import", str(tmp_path / "nowhere")]) == 2
    assert "nowhere: is not a folder of sounds" in capsys.readouterr().err

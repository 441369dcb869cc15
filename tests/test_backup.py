"""Backup and restore round trip on both engines, the SQLite one taken while the app is serving."""

import os
import subprocess
import sys
from pathlib import Path


def _fq(settings, *args):
    env = {**os.environ, "FENGQIAO_DATA_DIR": str(settings.data_dir), "FENGQIAO_DATABASE_URL": settings.database_url,
           "FENGQIAO_SECRET_KEY": settings.secret_key}
    return subprocess.run([str(Path(sys.executable).with_name("fengqiao")), *args], env=env, capture_output=True,
                          text=True, timeout=120)


def test_backup_restore_round_trip(settings, world, make_case, client, login, arun, tmp_path):
    from core.tables import Case

    kept = [make_case(world["rooms"]["a"], world["users"]["med-a"], summary=f"备份前的案件{i}") for i in range(3)]
    login(client, "med-a")  # the app is up and serving while the backup is taken
    assert client.get("/cases").status_code == 200
    out = _fq(settings, "backup", str(tmp_path / "snap.bak"))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "snap.bak").stat().st_size > 0
    later = make_case(world["rooms"]["a"], world["users"]["med-a"], summary="备份后的案件")
    assert arun(Case.count()) == 4
    out = _fq(settings, "restore", str(tmp_path / "snap.bak"))
    assert out.returncode == 0, out.stderr
    numbers = {r["number"] for r in arun(Case.select(Case.number))}
    assert numbers == {c["number"] for c in kept} and later["number"] not in numbers
    assert client.get(f"/cases/{kept[0]['id']}").status_code == 200


def test_restore_refuses_a_file_that_is_not_a_backup(settings, tmp_path, database_url):
    bogus = tmp_path / "bogus.bak"
    bogus.write_bytes(b"definitely not a database" * 100)
    out = _fq(settings, "restore", str(bogus))
    assert out.returncode == 1 and out.stderr.startswith("fengqiao: error:") and "Traceback" not in out.stderr
    missing = _fq(settings, "restore", str(tmp_path / "nope.bak"))
    assert missing.returncode == 1 and "does not exist" in missing.stderr

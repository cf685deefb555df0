"""The machine store through the real `ramfleet serve` on 127.0.0.1: the
paginated /api/v1/machines (?limit, ?after, Link rel=next, read off the event
loop), its bad queries, and private state files (dir 0700, files 0600)."""
import os
import re
import stat
import tempfile
import urllib.parse

import pytest

from loopback_serve import LoopbackServe


@pytest.fixture(scope="module")
def server():
    with tempfile.TemporaryDirectory() as tmp:
        s = LoopbackServe(tmp)
        (s.config / "inventory.yaml").write_text("default: exit\n")
        s.start()
        try:
            for i in range(7):
                assert s.fetch(f"/ipxe?mac=52:54:00:00:10:{i:02x}&hostname=node{i}").status == 200
            yield s
        finally:
            s.stop()


def next_link(resp):
    link = resp.headers.get("link")
    if not link:
        return None
    m = re.fullmatch(r'<([^>]+)>; rel="next"', link)
    assert m, link
    return m.group(1)


def test_pages_walk_every_machine_once_in_id_order(server):
    seen, path, pages = [], "/api/v1/machines?limit=3", 0
    while path:
        r = server.api.fetch(path)
        assert r.status == 200, r.text
        page = r.json()
        assert isinstance(page, list) and len(page) <= 3
        seen += [m["id"] for m in page]
        path = next_link(r)
        pages += 1
        assert pages <= 5
    assert pages == 3
    assert seen == sorted(seen) and len(set(seen)) == 7
    assert seen[0] == "52:54:00:00:10:00"


def test_cursor_can_be_given_by_hand(server):
    after = urllib.parse.quote("52:54:00:00:10:04", safe="")
    r = server.api.fetch(f"/api/v1/machines?after={after}&limit=10")
    assert r.status == 200
    assert [m["id"] for m in r.json()] == ["52:54:00:00:10:05", "52:54:00:00:10:06"]
    assert next_link(r) is None


def test_default_page_holds_everything_here_and_has_no_next(server):
    r = server.api.fetch("/api/v1/machines")
    assert r.status == 200
    assert len(r.json()) == 7
    assert next_link(r) is None


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "limit=abc", "limit=-1", "page=2",
                                   "after=" + "x" * 300])
def test_bad_queries_are_400_and_counted(server, query):
    before = server.counters().get("http.api.bad_query", 0)
    r = server.api.fetch("/api/v1/machines?" + query)
    assert r.status == 400, r.text
    assert "error" in r.json()
    assert server.counters().get("http.api.bad_query", 0) == before + 1


def test_healthz_shows_a_healthy_store(server):
    h = server.fetch("/healthz").json()
    assert h["status"] == "ok"
    assert h["store"]["ok"] is True
    assert h["store"]["last_error"] is None


def test_state_dir_and_database_files_are_private(server):
    server.api.fetch("/api/v1/machines")  # the boots are flushed
    assert stat.S_IMODE(os.stat(server.state).st_mode) == 0o700
    for name in ("ramfleet.db", "ramfleet.db-wal", "ramfleet.db-shm"):
        path = server.state / name
        assert path.exists(), name
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, name

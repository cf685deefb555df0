"""Peer-to-peer root images between real QEMU nodes (issue 14 part 4, docs/scale.md).

`ramfleet lab up --stage1 stream --p2p`: three diskless VMs boot the stage-1
initrd, whose `ramfleet-stage1 fetch --p2p` asks ramfleet's tracker whom to
ask for each chunk of the root image, takes chunks from the other VMs (or
from ramfleet when nobody has them yet), checks each against chunks.json,
switch_roots and keeps seeding in a detached child. The test reads every
node's fetcher summary off its serial console: all three reach ready with the
right root, and chunks came from peers (moved between VMs), so ramfleet sent
fewer chunks than nodes x chunks. The tracker's metrics say the same.
"""
import re
from pathlib import Path

from labctl import api, api_raw, assert_gone, lab, lab_dir, state, up  # noqa: F401 (lab_dir: fixture)

SUMMARY = re.compile(r"ramfleet-stage1: root image \w+ verified \(p2p\): (\d+) chunks from peers \((\d+) bytes\), "
                     r"(\d+) from ramfleet \((\d+) bytes\), (\d+) corrupt")


def test_three_nodes_share_their_root_image_chunks(lab_dir):
    r = up(lab_dir, "--nodes", "3", "--stage1", "stream", "--p2p", "--p2p-seed", "60")
    assert r.returncode == 0, r.stdout + r.stderr
    st = state(lab_dir)
    machines = {m["id"]: m for m in api(st, "/api/v1/machines")}
    from_peers = from_server = 0
    for node in st["nodes"]:
        assert machines[node["mac"]]["last_phase"] == "ready", machines[node["mac"]]
        serial = (Path(lab_dir) / "logs" / f"{node['name']}-serial.log").read_text(errors="replace")
        m = SUMMARY.search(serial)
        assert m, serial[-3000:]
        assert int(m.group(5)) == 0, m.group(0)
        from_peers += int(m.group(1))
        from_server += int(m.group(3))
        # The seeder is detached: stage 1 went on to switch_root while it serves.
        assert re.search(r"seeding \d+ chunks to peers for 60 s \(pid \d+\)", serial), serial[-3000:]
        assert "switch_root to its /init" in serial
    chunks = (from_peers + from_server) // 3
    assert from_peers > 0, "no chunk moved between the VMs"
    assert from_server < 3 * chunks
    text = api_raw(st, "/metrics").decode()
    peers = float(re.search(r"^ramfleet_p2p_peer_answers_total (\S+)", text, re.M).group(1))
    assert peers > 0
    d = lab("down", "--dir", str(lab_dir))
    assert d.returncode == 0, d.stderr
    assert_gone(st, lab_dir)

"""TFTP slots cannot be held by the boot network (issue 10): a request with
timeout=255 that never ACKs frees its slot within seconds, one client IP holds
at most max_transfers_per_client transfers while another IP is served, and a
transfer that ACKs just often enough still ends at max_transfer_time."""
import json
import subprocess
import time

from test_tftp_transfers import SERVER, raw, root, sha256  # noqa: F401 (root is a fixture)

# Holds transfers without ever ACKing (from bind_ip if given), printing each
# first reply, then keeps the sockets open for `hold` seconds.
HOLD_CLIENT = r'''
import json, socket, struct, sys, time
args = json.loads(sys.argv[1])
server = (args["server"], 69)
def rrq(name, options):
    body = struct.pack("!H", 1) + name.encode() + b"\0octet\0"
    for k, v in options:
        body += k.encode() + b"\0" + str(v).encode() + b"\0"
    return body
out, socks = [], []
for _ in range(args["count"]):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if args.get("bind_ip"):
        s.bind((args["bind_ip"], 0))
    s.settimeout(3)
    s.sendto(rrq(args["name"], args.get("options", [])), server)
    try:
        data, addr = s.recvfrom(70000)
    except socket.timeout:  # dropped: the server says nothing when busy
        out.append({"opcode": None})
        socks.append(s)
        continue
    d = {"opcode": struct.unpack("!H", data[:2])[0]}
    if d["opcode"] == 5:
        d["message"] = data[4:].split(b"\0")[0].decode()
    if d["opcode"] == 6:
        opts = data[2:].split(b"\0")
        d["oack"] = {k.decode(): v.decode() for k, v in zip(opts[0::2], opts[1::2])}
    out.append(d)
    socks.append(s)
print(json.dumps(out), flush=True)
time.sleep(args.get("hold", 0))
'''

SLOW_ACKER = r'''
import json, socket, struct, sys, time
args = json.loads(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(struct.pack("!H", 1) + args["name"].encode() + b"\0octet\0blksize\0" + b"8\0", (args["server"], 69))
started, blocks, end = time.monotonic(), 0, None
while time.monotonic() - started < args["seconds"]:
    try:
        data, addr = s.recvfrom(70000)
    except socket.timeout:
        end = {"timeout": True}
        break
    opcode = struct.unpack("!H", data[:2])[0]
    if opcode == 5:
        end = {"error": data[4:].split(b"\0")[0].decode(), "after": time.monotonic() - started}
        break
    block = 0 if opcode == 6 else struct.unpack("!H", data[2:4])[0]
    blocks += 1
    time.sleep(0.4)  # well inside the retransmission timeout: the transfer never times out
    s.sendto(struct.pack("!HH", 4, block), addr)
print(json.dumps({"blocks": blocks, "end": end}))
'''


def hold(lab, count, name="big.bin", options=(), bind_ip=None, seconds=0):
    return lab.client_popen("python3", "-c", HOLD_CLIENT,
                            json.dumps({"server": SERVER, "name": name, "count": count, "options": list(options),
                                        "bind_ip": bind_ip, "hold": seconds}),
                            stdout=subprocess.PIPE, text=True)


def start(lab, root, yaml_text):
    config = lab.tmp / "config"
    config.mkdir(exist_ok=True)
    (config / "ramfleet.yaml").write_text(yaml_text)
    return lab.start_ramfleet("--interface", "rf0", "--dhcp", "off", "--http-port", "-1", "--config", config,
                              "--tftp-root", root)


def test_timeout_255_that_never_acks_frees_its_slot_within_the_cap(lab, root):
    # One slot only: whoever holds it stops every other boot.
    srv = start(lab, root, "tftp:\n  max_transfers: 1\n")
    holder = hold(lab, 1, options=[("timeout", 255), ("blksize", 1468)], seconds=20)
    [first] = json.loads(holder.stdout.readline())
    # The timeout is above the cap (5 s): ignored, not echoed; blksize still is.
    assert first["opcode"] == 6 and "timeout" not in first["oack"] and first["oack"]["blksize"] == "1468", first
    started = time.monotonic()
    # The slot is taken now: the request is dropped, unanswered...
    assert raw(lab, "request", name="hello.txt")["opcode"] is None
    # ...and the slot is free again after (max_retransmits + 1) x 1 s, not
    # 6 x 255 s: a client retransmitting its RRQ is served then.
    got = raw(lab, "fetch", name="hello.txt", retransmit_for=15)
    assert "error" not in got, got
    assert got["sha256"] == sha256(root / "hello.txt")
    assert time.monotonic() - started < 12
    assert "event=tftp.transfer.end" in srv.log() and "outcome=timed_out" in srv.log()
    holder.kill()


def test_one_address_cannot_take_every_slot(lab, root):
    lab.client("ip", "addr", "add", "10.77.0.3/24", "dev", "cl0", check=True)
    srv = start(lab, root, "tftp:\n  max_transfers_per_client: 2\n")
    holder = hold(lab, 3, bind_ip="10.77.0.2", seconds=8)
    held = json.loads(holder.stdout.readline())
    assert [h["opcode"] for h in held] == [3, 3, None], held  # the third dropped, not refused
    assert "event=tftp.busy" in srv.log() and "client_transfers=2" in srv.log()
    # Another address is served meanwhile.
    out = lab.tmp / "other.bin"
    other = lab.client("curl", "-sS", "--max-time", "30", "--interface", "10.77.0.3", "-o", out,
                       f"tftp://{SERVER}/sub/inner.bin", timeout=60)
    assert other.returncode == 0, other.stderr
    assert sha256(out) == sha256(root / "sub" / "inner.bin")
    holder.kill()


def test_a_transfer_ends_at_max_transfer_time(lab, root):
    srv = start(lab, root, "tftp:\n  max_transfer_time: 3s\n")
    r = lab.client("python3", "-c", SLOW_ACKER, json.dumps({"server": SERVER, "name": "big.bin", "seconds": 15}),
                   timeout=60)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["end"] and "too long" in got["end"].get("error", ""), got
    assert 2.5 <= got["end"]["after"] <= 6, got
    assert "transfer exceeded max_transfer_time" in srv.log()

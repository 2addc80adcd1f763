"""Records real RTP/RTCP datagrams from `roomcast speak` as fuzz seeds for the rtp_receiver target:
records of [u16 length][u16 ms since the previous datagram][datagram], little-endian.
Usage: python3 seeds/capture_rtp.py ROOMCAST_BIN WAV OUT_FILE [--streams N]"""
import socket, struct, subprocess, sys, time

binary, wav, out = sys.argv[1:4]
extra = sys.argv[4:]
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 0))
port = sock.getsockname()[1]
sock.settimeout(1.0)
speaker = subprocess.Popen([binary, "speak", wav, "--to", "rtp://127.0.0.1:%d" % port, "--name", "Ana", "--limit", "0.5"] + extra,
                           stderr=subprocess.DEVNULL)
records, last = [], None
while True:
    try:
        data = sock.recv(2048)
    except socket.timeout:
        break
    now = time.monotonic()
    gap = 0 if last is None else int((now - last) * 1000)
    last = now
    records.append(struct.pack("<HH", len(data), min(gap, 65535)) + data)
speaker.wait()
open(out, "wb").write(b"".join(records))
print(len(records), "datagrams")

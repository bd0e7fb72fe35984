"""A notification receiver for scripts/instructions.sh: acknowledges every Whalet notification
cheaply (its head echoed with `SUCCESS`, unsigned, no RSA), so what is counted is the simulator.
Listens on a free port of 127.0.0.1 over keep-alive HTTP/1.1, writes the port to PORTFILE, and
answers `GET /count` with how many notifications it has acknowledged.

    python scripts/ack_receiver.py PORTFILE
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

acknowledged = 0
lock = threading.Lock()


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        with lock:
            self.answer(str(acknowledged).encode())

    def do_POST(self) -> None:
        global acknowledged
        sent = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        head = {name: sent["head"][name] for name in ("partnerId", "apiCode", "requestNo", "version")}
        head.update(code="SUCCESS", detail="成功")
        self.answer(json.dumps({"head": head}, ensure_ascii=False).encode())
        with lock:
            acknowledged += 1

    def log_message(self, *args) -> None:
        pass


def main() -> int:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    with open(sys.argv[1], "w") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Keep-alive load for scripts/instructions.sh: CONNECTIONS connections send TOTAL distinct
`connectivity` requests, sealed beforehand by the independent Python implementation
(scripts/whalet_envelope.py), to a simulator at 127.0.0.1:PORT, and every reply must be SUCCESS.

    python scripts/keepalive_load.py PORT TOTAL CONNECTIONS
"""
import http.client
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sim_crypto  # noqa: E402
import whalet_envelope as envelope  # noqa: E402


def main() -> int:
    port, total, connections = (int(a) for a in sys.argv[1:4])
    key = sim_crypto.load_private_key(envelope.PARTNER_KEY)
    platform = sim_crypto.load_public_key(envelope.PLATFORM_PUB)
    data = {"notifyFlag": "N", "responseFlag": "Y"}
    bodies = [
        json.dumps(envelope.seal_request(envelope.DEFAULT_PARTNER_ID, "connectivity",
                                         f"K{i:020d}", data, key, platform)).encode()
        for i in range(total)
    ]
    refused = []

    def send(first: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        for body in bodies[first::connections]:
            conn.request("POST", "/api", body, {"Content-Type": "application/json"})
            reply = conn.getresponse().read()
            if b'"code":"SUCCESS"' not in reply:
                refused.append(reply[:300])

    threads = [threading.Thread(target=send, args=(k,)) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if refused:
        print(f"{len(refused)} of {total} requests were not SUCCESS, e.g. {refused[0]!r}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

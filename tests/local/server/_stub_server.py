"""A stand-in inference server for the launcher's tests: only the routes readiness needs.

Run as a script: ``python _stub_server.py --port P [--loading-probes N] [--no-health]
[--ignore-sigterm] [--spawn-child] [--noise-bytes N]``.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model-name", default="stub")
    parser.add_argument("--loading-probes", type=int, default=0, help="answer /health 503 this many times")
    parser.add_argument("--no-health", action="store_true", help="404 on /health, like llama_cpp.server")
    parser.add_argument("--ignore-sigterm", action="store_true")
    parser.add_argument("--spawn-child", action="store_true", help="start a long sleeper and print its pid")
    parser.add_argument("--noise-bytes", type=int, default=0, help="write this much output before serving")
    args = parser.parse_args()

    if args.ignore_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if args.spawn_child:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        print(f"child-pid={child.pid}", flush=True)
    line = "x" * 99 + "\n"
    for _ in range(args.noise_bytes // len(line)):
        sys.stdout.write(line)
    sys.stdout.flush()

    probes = {"health": 0}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *log_args: object) -> None:
            print(f"request {self.path}", flush=True)

        def _send(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/health" and not args.no_health:
                probes["health"] += 1
                if probes["health"] <= args.loading_probes:
                    self._send(503, {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}})
                else:
                    self._send(200, {"status": "ok"})
            elif self.path == "/v1/models":
                self._send(200, {"object": "list", "data": [{"id": args.model_name, "object": "model"}]})
            else:
                self._send(404, {"detail": "Not Found"})

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"listening on {args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

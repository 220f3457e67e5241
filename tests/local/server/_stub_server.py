"""A stand-in inference server for the launcher's tests: only the routes readiness needs.

Run as a script: ``python _stub_server.py --port P [--loading-probes N] [--no-health]
[--ignore-sigterm] [--spawn-child] [--noise-bytes N] [--die-on-chat STATUS]``; a chat
completion answers ``pid <its pid>``.
"""

from __future__ import annotations

import argparse
import json
import os
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
    parser.add_argument("--die-on-chat", type=int, default=None, help="exit with this status on a chat request")
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

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path != "/v1/chat/completions":
                self._send(404, {"detail": "Not Found"})
                return
            if args.die_on_chat is not None:
                print("dying on a chat request", flush=True)
                os._exit(args.die_on_chat)
            if body.get("stream"):
                chunk = {"choices": [{"index": 0, "delta": {"content": f"pid {os.getpid()}"}, "finish_reason": "stop"}]}
                data = f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            self._send(
                200,
                {
                    "id": "stub-1",
                    "model": body.get("model"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": f"pid {os.getpid()}"},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
                },
            )

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"listening on {args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

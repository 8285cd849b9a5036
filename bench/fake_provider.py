#!/usr/bin/env python3
"""An OpenAI-compatible provider on loopback that answers every chat completion at once with
a fixed identification, for bench/identify.sh (it measures WildID's photo path, not a model).
Prints "listening PORT" when ready. Standard library only."""
import http.server
import json

ANSWER = json.dumps({
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": json.dumps({
        "is_animal": True, "species": "Canis familiaris", "common_name": "Dog",
        "animal_type": "mammal", "conservation_status": "Domesticated", "confidence": "high",
        "description": "A dog.", "notes": None})}}],
}).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        remaining = length
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(ANSWER)))
        self.end_headers()
        self.wfile.write(ANSWER)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("listening", server.server_address[1], flush=True)
server.serve_forever()

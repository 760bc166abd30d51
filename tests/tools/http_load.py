"""A host client for the real-service tests and bench/http_server.sh: GETs
every file of a document root in turn from an HTTP server on 127.0.0.1,
from several threads, each request on a new connection (as the HTTP/1.0
servers under test answer), and compares each body with the file byte for
byte.

usage: http_load.py <port> <docroot> <requests> <threads>
Prints one line, "requests N errors E seconds S req/s R p99_ms P" (P: the
99th percentile of the requests' latencies); exits 1 when a
request failed or a body differed (each such failure is named on stderr)."""
import http.client
import os
import sys
import threading
import time

port, docroot, total, threads = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
names = sorted(os.listdir(docroot))
bodies = {}
for name in names:
    with open(os.path.join(docroot, name), "rb") as file:
        bodies[name] = file.read()
lock = threading.Lock()
next_request = 0
errors = 0
latencies = []


def claim():
    global next_request
    with lock:
        if next_request >= total:
            return None
        next_request += 1
        return next_request - 1


def failed(message):
    global errors
    with lock:
        errors += 1
        if errors <= 10:
            print(message, file=sys.stderr)


def worker():
    while (number := claim()) is not None:
        name = names[number % len(names)]
        began = time.monotonic()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            connection.request("GET", "/" + name)
            response = connection.getresponse()
            body = response.read()
            connection.close()
            with lock:
                latencies.append(time.monotonic() - began)
        except (OSError, http.client.HTTPException) as error:
            failed(f"request {number} for /{name}: {error!r}")
            continue
        if response.status != 200:
            failed(f"request {number} for /{name}: status {response.status}")
        elif body != bodies[name]:
            failed(f"request {number} for /{name}: {len(body)} bytes differ from the file's "
                   f"{len(bodies[name])}")


start = time.monotonic()
workers = [threading.Thread(target=worker) for _ in range(threads)]
for thread in workers:
    thread.start()
for thread in workers:
    thread.join()
seconds = time.monotonic() - start
latencies.sort()
p99 = latencies[min(len(latencies) - 1, len(latencies) * 99 // 100)] * 1000 if latencies else 0
print(f"requests {total} errors {errors} seconds {seconds:.2f} req/s {total / seconds:.0f} "
      f"p99_ms {p99:.1f}")
sys.exit(1 if errors else 0)

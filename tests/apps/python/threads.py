# Python threads on myst: run by tests/tools/exec_python_threads.sh with
# Debian's python3 under `myst exec-linux` and natively; the outputs must be
# equal. 16 threads hashing (hashlib through OpenSSL's libcrypto; the threads
# hand the GIL to each other through futex waits with timeouts), Event/Timer,
# Condition, queue.Queue, a ThreadPoolExecutor and faulthandler's watchdog
# thread.
import threading, hashlib, queue, faulthandler, concurrent.futures, time
results = [None] * 16
def work(i):
    h = hashlib.sha256()
    for _ in range(2000):
        h.update(str(i).encode() * 100)
    results[i] = h.hexdigest()[:8]
ts = [threading.Thread(target=work, args=(i,)) for i in range(16)]
for t in ts: t.start()
for t in ts: t.join()
print("hashes", len(set(results)), results[0], type(hashlib.sha256()).__module__)
ev = threading.Event()
threading.Timer(0.05, ev.set).start()
print("event", ev.wait(5))
cond = threading.Condition()
items = []
def producer():
    for i in range(5):
        with cond:
            items.append(i); cond.notify()
threading.Thread(target=producer).start()
with cond:
    cond.wait_for(lambda: len(items) == 5, timeout=5)
print("condition", items)
q = queue.Queue()
def qworker():
    while True:
        x = q.get()
        if x is None: break
        q.task_done()
w = threading.Thread(target=qworker); w.start()
for i in range(100): q.put(i)
q.join(); q.put(None); w.join()
print("queue done")
with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
    print("pool", sum(ex.map(lambda x: x * x, range(100))))
faulthandler.dump_traceback_later(30)
faulthandler.cancel_dump_traceback_later()
print("faulthandler ok")

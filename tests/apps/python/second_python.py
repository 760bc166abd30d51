# Debian's python3 (a fixed-address program) starting python3 in every way
# a program does; under myst the new program takes turns on that range with
# its parent (README "Processes"). The output must match a native run.
import os
import subprocess
import sys
import tempfile
import threading

CHILD = [sys.executable, "-c"]

result = subprocess.run(CHILD + ["import sys; print('child', sum(range(10**6))); sys.exit(3)"],
                        capture_output=True, text=True)
print("subprocess.run:", result.returncode, result.stdout.strip())
print("check_output with input:",
      subprocess.check_output(CHILD + ["print(input()[::-1])"], input=b"hello\n").decode().strip())

read_end, write_end = os.pipe()
pid = os.fork()
if pid == 0:
    os.dup2(write_end, 1)
    os.execv(sys.executable, CHILD + ["print('fork + execv')"])
os.close(write_end)
with os.fdopen(read_end) as pipe:
    print("from the forked child:", pipe.read().strip())
print("its status:", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))

NESTED = ("import subprocess, sys; "
          "print(subprocess.check_output([sys.executable, '-c', 'print(42)']).decode().strip())")
print("python3 -> python3 -> python3:", subprocess.check_output(CHILD + [NESTED]).decode().strip())

# The parent keeps computing while its child computes: the two take turns.
stop = threading.Event()
spins = [0]


def spin():
    while not stop.is_set():
        spins[0] += 1


spinner = threading.Thread(target=spin)
spinner.start()
BUSY = "print(sum(i * i for i in range(300000)))"
print("beside a busy thread:", subprocess.check_output(CHILD + [BUSY]).decode().strip())
stop.set()
spinner.join()
print("the thread ran:", spins[0] > 0)

# A shell that python3 started runs python3: the range is the
# grandparent's, not the shell's own.
with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as script:
    script.write("#!/bin/sh\nexec %s -c \"import sys; print('via sh'); sys.exit(47)\"\n"
                 % sys.executable)
os.chmod(script.name, 0o700)
through_sh = subprocess.run([script.name], capture_output=True, text=True)
os.remove(script.name)
print("through /bin/sh:", through_sh.returncode, through_sh.stdout.strip())
print("shell=True:", subprocess.check_output(f"{sys.executable} -c 'print(6 * 7)'",
                                             shell=True).decode().strip())

children = [subprocess.Popen(CHILD + [f"print({i} * {i})"], stdout=subprocess.PIPE)
            for i in range(4)]
print("four at once:", [child.communicate()[0].decode().strip() for child in children])
sys.stdout.flush()
os.execv(sys.executable, CHILD + ["print('execv of itself: done')"])

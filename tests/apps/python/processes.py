# Python processes on myst: run by tests/tools/exec_python_threads.sh with
# Debian's python3 under `myst exec-linux` and natively; the outputs must be
# equal. subprocess (vfork + exec of busybox applets from the image, a shell
# pipeline, exit statuses, a timeout), os.fork + os.waitpid, os.pipe with
# select.select and select.epoll, os.posix_spawn and signals to a child.
# Debian's python3 is a fixed-address (ET_EXEC) program: a second python3
# cannot be loaded beside the first in myst's one address space, so
# multiprocessing's spawn and forkserver methods are not tried here
# (tests/tools/exec_python_processes.sh checks the error they get).
import os, select, signal, subprocess, sys, time


def main():
    r = subprocess.run(['/bin/echo', 'hi'], capture_output=True)
    print("subprocess.run", r.returncode, r.stdout)
    r = subprocess.run('echo one two three | tr " " "\\n" | wc -l; exit 3', shell=True,
                       capture_output=True, text=True)
    print("shell pipeline", r.returncode, r.stdout.strip())
    r = subprocess.run(['/bin/sh', '-c', 'read line; echo "got:$line"'], input=b'data\n',
                       capture_output=True)
    print("stdin to a child", r.stdout)
    try:
        subprocess.run(['/bin/sleep', '5'], timeout=0.2)
    except subprocess.TimeoutExpired:
        print("timeout expired, child killed")
    try:
        subprocess.run(['/no/such/program'])
    except FileNotFoundError as e:
        print("missing program", e.errno)

    pid = os.fork()
    if pid == 0:
        os._exit(7)
    _, status = os.waitpid(pid, 0)
    print("fork + waitpid", os.waitstatus_to_exitcode(status))

    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(reader)
        os.write(writer, b'from the child')
        os._exit(0)
    os.close(writer)
    os.waitpid(pid, 0)
    ready, _, _ = select.select([reader], [], [], 5)
    print("select on a pipe", ready == [reader], os.read(reader, 100))
    poller = select.epoll()
    poller.register(reader, select.EPOLLIN)
    print("epoll sees EOF", [(fd == reader, bool(ev & select.EPOLLHUP)) for fd, ev in poller.poll(5)])
    poller.close()
    os.close(reader)

    pid = os.posix_spawn('/bin/sh', ['sh', '-c', 'exit 5'], {})
    print("posix_spawn", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
    child = subprocess.Popen(['/bin/sleep', '10'])
    time.sleep(0.1)
    child.send_signal(signal.SIGTERM)
    print("signalled child", child.wait())
    sys.stdout.flush()


main()

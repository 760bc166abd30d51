"""Sockets from Debian's python3: a threaded TCP echo server and its client
over 127.0.0.1 (four connections of growing size, sendall/shutdown/recv to
the end), an AF_UNIX socketpair watched by selectors (epoll), an abstract
AF_UNIX datagram, socket options and a refused connection. Prints nothing
that depends on ports."""
import errno
import selectors
import socket
import threading

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0))
server.listen(8)
port = server.getsockname()[1]
print("SO_REUSEADDR", server.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) != 0)


def serve():
    for _ in range(4):
        connection, _ = server.accept()
        with connection:
            while True:
                data = connection.recv(4096)
                if not data:
                    break
                connection.sendall(data)


thread = threading.Thread(target=serve)
thread.start()
for i in range(4):
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        payload = bytes(range(256)) * (1000 * (i + 1))
        client.sendall(payload)
        client.shutdown(socket.SHUT_WR)
        back = bytearray()
        while True:
            data = client.recv(65536)
            if not data:
                break
            back += data
        print("connection", i, "echoed", len(back), "bytes, equal:", bytes(back) == payload)
thread.join()
server.close()

try:
    socket.create_connection(("127.0.0.1", port), timeout=5)
except ConnectionRefusedError as error:
    print("closed port:", errno.errorcode[error.errno])

first, second = socket.socketpair()
selector = selectors.DefaultSelector()
selector.register(second, selectors.EVENT_READ)
print("ready before a send:", len(selector.select(timeout=0)))
first.sendall(b"unix pair")
print("ready after a send:", len(selector.select(timeout=5)), second.recv(100))
first.close()
print("after the close:", second.recv(100))

receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
receiver.bind("\0myst-python-sockets")
sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sender.sendto(b"datagram", "\0myst-python-sockets")
print("abstract datagram:", receiver.recv(100))
print("numeric getaddrinfo:", socket.getaddrinfo("127.0.0.1", 80, type=socket.SOCK_STREAM)[0][4])

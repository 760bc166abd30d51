// Sockets (kernel/syscalls/socket.cpp, socket_messages.cpp). Format: see
// README.md.
#pragma once

#define MYST_SOCKET_SYSCALLS(X)                       \
    X(socket, sys_socket, "ddd", supported)           \
    X(socketpair, sys_socketpair, "dddp", supported)  \
    X(bind, sys_bind, "fpd", supported)               \
    X(listen, sys_listen, "fd", supported)            \
    X(accept, sys_accept, "fpp", supported)           \
    X(accept4, sys_accept4, "fppx", supported)        \
    X(connect, sys_connect, "fpd", supported)         \
    X(shutdown, sys_shutdown, "fd", supported)        \
    X(getsockname, sys_getsockname, "fpp", supported) \
    X(getpeername, sys_getpeername, "fpp", supported) \
    X(getsockopt, sys_getsockopt, "fddpp", supported) \
    X(setsockopt, sys_setsockopt, "fddpd", supported) \
    X(sendto, sys_sendto, "fpuxpd", supported)        \
    X(recvfrom, sys_recvfrom, "fpuxpp", supported)    \
    X(sendmsg, sys_sendmsg, "fpx", supported)         \
    X(recvmsg, sys_recvmsg, "fpx", supported)         \
    X(sendmmsg, sys_sendmmsg, "fpux", supported)      \
    X(recvmmsg, sys_recvmmsg, "fpuxp", supported)

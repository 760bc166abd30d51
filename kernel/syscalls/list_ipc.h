// System V semaphores and message queues, POSIX message queues
// (kernel/syscalls/semaphores.cpp, messages.cpp, posix_mqueue.cpp).
// Format: see README.md.
#pragma once

#define MYST_IPC_SYSCALLS(X)                                    \
    X(semget, sys_semget, "ddx", supported)                     \
    X(semop, sys_semop, "dpu", supported)                       \
    X(semtimedop, sys_semtimedop, "dpup", supported)            \
    X(semctl, sys_semctl, "dddx", supported)                    \
    X(msgget, sys_msgget, "dx", supported)                      \
    X(msgsnd, sys_msgsnd, "dpux", supported)                    \
    X(msgrcv, sys_msgrcv, "dpudx", supported)                   \
    X(msgctl, sys_msgctl, "ddp", supported)                     \
    X(mq_open, sys_mq_open, "sxop", supported)                  \
    X(mq_unlink, sys_mq_unlink, "s", supported)                 \
    X(mq_timedsend, sys_mq_timedsend, "fpuup", supported)       \
    X(mq_timedreceive, sys_mq_timedreceive, "fpupp", supported) \
    X(mq_notify, sys_mq_notify, "fp", partial)                  \
    X(mq_getsetattr, sys_mq_getsetattr, "fpp", supported)
